import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import type { ObservableType } from '../contract/observable-type.js';

/** A value checked against one observable type: its canonical form, or why it is not one. */
export type TypeCheck = { ok: true; value: string } | { ok: false; reason: string };

const HASH_LENGTHS = { md5: 32, sha1: 40, sha256: 64 } as const;
const HASH_NAMES = { md5: 'MD5', sha1: 'SHA-1', sha256: 'SHA-256' } as const;
const HEX = /^[0-9a-f]+$/i;
const DOTTED_NUMBERS = /^\d+(?:\.\d+)*$/;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const URL_START = /^([a-z][a-z0-9+.-]*):\/\/([^/?#\\]*)(.*)$/is;
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ftp: '21', ws: '80', wss: '443' };

const ok = (value: string): TypeCheck => ({ ok: true, value });
const fail = (reason: string): TypeCheck => ({ ok: false, reason });

export function checkHash(type: 'md5' | 'sha1' | 'sha256', input: string): TypeCheck {
  const expected = HASH_LENGTHS[type];
  if (!HEX.test(input)) return fail('a hash is hexadecimal (0-9, a-f)');
  if (input.length !== expected) return fail(`${HASH_NAMES[type]} hashes have ${expected} hex characters, this has ${input.length}`);
  return ok(input.toLowerCase());
}

/**
 * Dotted-quad decimal only. Leading zeros are refused rather than guessed at: `010.1.1.1` is
 * 10.1.1.1 to some tools and 8.1.1.1 (octal) to others (inet_aton, WHATWG URL).
 */
export function checkIpv4(input: string): TypeCheck {
  // Nearly every input is a valid address: a scan by hand accepts it without the regex and the
  // split; anything it does not accept goes on to the checks below, which say what is wrong.
  if (isPlainIpv4(input)) return ok(input);
  const parts = input.split('.');
  if (parts.length !== 4 || !DOTTED_NUMBERS.test(input)) return fail('an IPv4 address is four decimal numbers separated by dots');
  for (const part of parts) {
    if (part.length > 1 && part.startsWith('0')) return fail(`octet "${part}" has a leading zero, which some tools read as octal; write it without`);
    if (Number(part) > 255) return fail(`octet ${part} is greater than 255`);
  }
  return ok(input);
}

/**
 * Exactly four dot-separated decimal octets of 0-255, without leading zeros: what `checkIpv4`
 * accepts (property-tested against it: normalize.property.test.ts).
 */
export function isPlainIpv4(input: string): boolean {
  const length = input.length;
  if (length < 7 || length > 15) return false;
  let octets = 0;
  let i = 0;
  while (i < length) {
    const start = i;
    let value = 0;
    while (i < length) {
      const c = input.charCodeAt(i);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || value > 255 || (digits > 1 && input.charCodeAt(start) === 48)) return false;
    octets++;
    if (i === length) break;
    // Only a dot separates octets, and not after the fourth.
    if (input.charCodeAt(i) !== 46 || octets === 4) return false;
    i++;
    if (i === length) return false;
  }
  return octets === 4;
}

/** RFC 5952 form through the WHATWG URL parser: compressed, lower-case. Brackets are accepted and dropped. */
export function checkIpv6(input: string): TypeCheck {
  const bare = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  if (bare.includes('%')) return fail('zone IDs (%eth0) are not supported');
  if (!isIPv6(bare)) return fail('not a valid IPv6 address');
  try {
    return ok(new URL(`http://[${bare}]/`).hostname.slice(1, -1));
  } catch {
    return fail('not a valid IPv6 address');
  }
}

/**
 * A host name: lower-case, IDN labels in punycode (`bücher.de` -> `xn--bcher-kva.de`), no
 * trailing dot. At least two labels; underscores are allowed (real malicious hosts use them).
 */
export function checkDomain(input: string): TypeCheck {
  const withoutRoot = input.endsWith('.') && !input.endsWith('..') ? input.slice(0, -1) : input;
  if (withoutRoot.length === 0) return fail('empty');
  if (/[\s/\\?#@:]/.test(withoutRoot)) return fail('a domain has no spaces, slashes, "@" or ":"');
  const labels = withoutRoot.split('.');
  if (labels.length < 2) return fail('a domain needs at least two labels (example.org)');
  // Checked before domainToASCII, which would turn `1.2.3.999` or `0x7f.1` into IPv4 addresses.
  if (/^(?:\d+|0x[0-9a-f]*)$/i.test(labels.at(-1) ?? '')) return fail('the last label is numeric, so this is not a domain (an invalid IPv4 address?)');
  if (labels.some((label) => label.length === 0)) return fail('a domain has no empty labels ("..")');
  const ascii = domainToASCII(withoutRoot);
  if (ascii === '') return fail('not a valid (internationalized) domain name');
  if (ascii.length > 253) return fail(`a domain has at most 253 characters, this has ${ascii.length}`);
  const bad = ascii.split('.').find((label) => !LABEL.test(label));
  if (bad !== undefined) return fail(`label "${bad}" is invalid: letters, digits, "-" and "_", at most 63, not starting or ending with "-"`);
  return ok(ascii);
}

/**
 * Scheme and host only: the scheme and host are lower-cased, the host punycoded (IPv6 hosts
 * canonical), a default port dropped, credentials (`user:password@`) removed: they must never
 * reach an upstream service or a cache key (the record's `input` keeps what was given). Path, query and fragment are kept byte for byte, since
 * servers treat them case-sensitively and intel APIs key URLs by their exact text.
 */
export function checkUrl(input: string): TypeCheck {
  if (/\s/.test(input)) return fail('a URL has no whitespace (encode spaces as %20)');
  const match = URL_START.exec(input);
  if (!match) return fail('a URL starts with a scheme and "://" (http://, https://, ...)');
  const [, scheme = '', , rest = ''] = match;
  let parsed: URL;
  try {
    parsed = new URL(input);
  } catch {
    return fail('the URL parser rejects it');
  }
  if (parsed.hostname === '') return fail('a URL needs a host');
  const lowerScheme = scheme.toLowerCase();
  let host = parsed.hostname;
  if (!host.startsWith('[') && /^[\d.]+$/.test(host) === false) {
    // Non-special schemes (ftps, hxxp typos...) keep the host as written: normalize it ourselves.
    const ascii = domainToASCII(host);
    if (ascii !== '') host = ascii;
  }
  const port = parsed.port !== '' && parsed.port !== DEFAULT_PORTS[lowerScheme] ? `:${parsed.port}` : '';
  return ok(`${lowerScheme}://${host}${port}${rest}`);
}

const CHECKS: Record<ObservableType, (input: string) => TypeCheck> = {
  ipv4: checkIpv4,
  ipv6: checkIpv6,
  domain: checkDomain,
  url: checkUrl,
  md5: (input) => checkHash('md5', input),
  sha1: (input) => checkHash('sha1', input),
  sha256: (input) => checkHash('sha256', input),
};

/** Checks `input` (already refanged and trimmed) as `type` and returns its canonical form or the reason it is not one. */
export function checkObservable(type: ObservableType, input: string): TypeCheck {
  return CHECKS[type](input);
}
