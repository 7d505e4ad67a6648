import { isIP } from 'node:net';
import { hashHex } from './rng.js';

/** The four kinds of VirusTotal object the simulator serves. */
export type ObjectKind = 'ip_address' | 'domain' | 'file' | 'url';

/** Which hash a file id is, from its length; null when it is not a hex hash. */
export function hashKind(value: string): 'md5' | 'sha1' | 'sha256' | null {
  if (!/^[0-9a-fA-F]+$/.test(value)) return null;
  if (value.length === 32) return 'md5';
  if (value.length === 40) return 'sha1';
  if (value.length === 64) return 'sha256';
  return null;
}

const DOMAIN_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** A syntactic domain check: two or more labels, an alphabetic (or punycode) TLD, at most 253 chars. */
export function isValidDomain(value: string): boolean {
  const domain = value.toLowerCase().replace(/\.$/, '');
  if (domain.length === 0 || domain.length > 253) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  const tld = labels[labels.length - 1] as string;
  if (!/^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld)) return false;
  return labels.every((label) => DOMAIN_LABEL.test(label));
}

/** 4, 6, or 0 when not an IP address. */
export function ipVersion(value: string): 0 | 4 | 6 {
  return isIP(value) as 0 | 4 | 6;
}

/** The eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail is converted). */
export function ipv6Groups(value: string): number[] {
  let text = value.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = (v4[1] as string).split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => parseInt(group, 16));
}

/**
 * The URL as VirusTotal stores it: scheme defaulted to http, scheme and host lower-cased, an
 * empty path becoming `/` (WHATWG URL serialisation, which is close to VirusTotal's
 * canonicalisation: `http://www.microsoft.com` is stored as `http://www.microsoft.com/`).
 */
export function canonicalUrl(raw: string): string {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  try {
    return new URL(withScheme).href;
  } catch {
    return withScheme;
  }
}

/** The SHA-256 URL identifier (what the API returns as `data.id`). */
export function urlSha256(raw: string): string {
  return hashHex('sha256', canonicalUrl(raw));
}

/** Unpadded base64url of a URL: the identifier most clients send to `GET /urls/{id}`. */
export function urlBase64Id(url: string): string {
  return Buffer.from(url, 'utf8').toString('base64url');
}

/** The host of a URL (lower-case, IPv6 without brackets), or null. */
export function urlHost(raw: string): string | null {
  try {
    const host = new URL(canonicalUrl(raw)).hostname.toLowerCase();
    return host.startsWith('[') ? host.slice(1, -1) : host;
  } catch {
    return null;
  }
}

/**
 * Decodes a `/urls/{id}` identifier: 64 hex characters are a SHA-256; anything else must be
 * base64 (url-safe or not, padded or not) of something that looks like a URL.
 */
export function decodeUrlId(id: string): { sha256: string; url?: string } | null {
  if (/^[0-9a-fA-F]{64}$/.test(id)) return { sha256: id.toLowerCase() };
  if (!/^[A-Za-z0-9_+/-]+={0,2}$/.test(id)) return null;
  const text = Buffer.from(id.replace(/=+$/, ''), 'base64url').toString('utf8');
  // A decoded URL has no control characters, no replacement characters and a host.
  const hasControlOrSpace = [...text].some((ch) => ch.charCodeAt(0) <= 0x20 || ch === '\u007f' || ch === '\ufffd');
  // The host must look like a domain or an IP (a dot, or an IPv6 colon), not a random word.
  const host = text.length === 0 || hasControlOrSpace ? null : urlHost(text);
  if (!host || !/[.:]/.test(host)) return null;
  return { sha256: urlSha256(text), url: canonicalUrl(text) };
}
