import { isIPv6 } from 'node:net';
import { XEnrichError } from '../contract/x-enrich-error.js';
import { checkObservable, type TypeCheck } from './normalize.js';
import { OBSERVABLE_TYPES, isObservableType, type Observable, type ObservableType } from '../contract/observable-type.js';
import { refang } from './refang.js';

/** A parsed input: the canonical observable and what the user gave. */
export interface ParsedObservable {
  observable: Observable;
  /** The raw input, unchanged (for display and for the record's `input`). */
  input: string;
}

export type ParseObservableResult = ({ ok: true } & ParsedObservable) | { ok: false; input: string; error: XEnrichError };

// Prefixes accepted in `type:value` besides the type names themselves.
const TYPE_ALIASES: Record<string, ObservableType | 'ip' | 'hash'> = { ip: 'ip', hash: 'hash', host: 'domain', hostname: 'domain', fqdn: 'domain', 'sha-1': 'sha1', 'sha-256': 'sha256' };
const TYPED = /^([a-z][a-z0-9-]*):(?!\/\/)(.*)$/is;
const EXPECTED = 'expected an IP, domain, URL or MD5/SHA-1/SHA-256 hash';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f]/;
const MAX_SHOWN = 200;

function show(input: string): string {
  return JSON.stringify(input.length > MAX_SHOWN ? `${input.slice(0, MAX_SHOWN)}...` : input);
}

function invalid(input: string, reason: string, type?: string): XEnrichError {
  const what = type === undefined ? 'an observable' : `a valid ${type}`;
  return new XEnrichError('X_OBSERVABLE_INVALID', `${show(input)} is not ${what}: ${reason}`, { details: type === undefined ? { input, reason } : { input, reason, type } });
}

/** Detects the type of a refanged, trimmed value. Returns the first type that matches, or the most helpful reason. */
function detect(value: string): { type: ObservableType; check: TypeCheck & { ok: true } } | { reason: string; type?: ObservableType } {
  const attempt = (type: ObservableType) => {
    const check = checkObservable(type, value);
    return check.ok ? { type, check } : { reason: check.reason, type };
  };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return attempt('url');
  if (/^[0-9a-f]+$/i.test(value)) {
    if (value.length === 32) return attempt('md5');
    if (value.length === 40) return attempt('sha1');
    if (value.length === 64) return attempt('sha256');
    if (value.length >= 24) return { reason: `a hex string of ${value.length} characters is not an MD5 (32), SHA-1 (40) or SHA-256 (64) hash` };
  }
  if (value.includes(':') && (isIPv6(value) || /^\[?[0-9a-f:.%]+\]?$/i.test(value))) return attempt('ipv6');
  if (/^\d+(?:\.\d+)+$/.test(value)) return attempt('ipv4');
  if (/^\d+(?:\.\d+){3}\/\d+$/.test(value)) return { reason: 'CIDR ranges are not observables; give a single address' };
  if (value.includes('.')) {
    if (/^[^/?#\s]+\.[^/?#\s]+[/?#]/.test(value)) return { reason: 'looks like a URL without a scheme; prefix it with http:// or https://' };
    const domain = attempt('domain');
    if ('check' in domain || !/[/\s@]/.test(value)) return domain;
  }
  return { reason: `no type matches (${EXPECTED})` };
}

function parseString(raw: string): ParsedObservable {
  const trimmed = refang(raw.trim()).trim();
  if (trimmed === '') throw invalid(raw, 'it is empty');
  if (CONTROL.test(trimmed)) throw invalid(raw, 'it contains control characters');
  const typed = TYPED.exec(trimmed);
  // `fe80::1` also looks like `prefix:rest`; a valid IPv6 address always wins.
  if (typed && !isIPv6(trimmed)) {
    const prefix = (typed[1] as string).toLowerCase();
    const value = (typed[2] as string).trim();
    const named = isObservableType(prefix) ? prefix : TYPE_ALIASES[prefix];
    if (named === undefined) {
      if (/^[0-9a-f]+$/i.test(prefix)) return parseDetected(raw, trimmed);
      throw new XEnrichError('X_OBSERVABLE_UNSUPPORTED_TYPE', `${show(raw)} names an unsupported type "${prefix}" (use one of ${OBSERVABLE_TYPES.join(', ')})`, {
        details: { input: raw, type: prefix },
      });
    }
    if (value === '') throw invalid(raw, 'the value after the type is empty', named);
    if (named === 'ip' || named === 'hash') {
      const detected = detect(value);
      const family = named === 'ip' ? ['ipv4', 'ipv6'] : ['md5', 'sha1', 'sha256'];
      if (!('reason' in detected) && family.includes(detected.type)) return { observable: canonical(detected.type, detected.check.value), input: raw };
      throw invalid(raw, 'reason' in detected ? detected.reason : `it is a ${detected.type}`, named === 'ip' ? 'IP address' : 'hash');
    }
    const check = checkObservable(named, value);
    if (!check.ok) throw invalid(raw, check.reason, named);
    return { observable: canonical(named, check.value), input: raw };
  }
  return parseDetected(raw, trimmed);
}

function parseDetected(raw: string, value: string): ParsedObservable {
  const detected = detect(value);
  if ('reason' in detected) throw invalid(raw, detected.reason, detected.type);
  return { observable: canonical(detected.type, detected.check.value), input: raw };
}

// An IPv4-mapped IPv6 address as the URL parser writes it: `::ffff:8.8.8.8` -> `::ffff:808:808`.
const MAPPED_IPV4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The observable under its canonical type: an IPv4-mapped IPv6 address (`::ffff:8.8.8.8`) is
 * the IPv4 address it maps, so it is looked up, cached and counted as that.
 */
function canonical(type: ObservableType, value: string): Observable {
  if (type === 'ipv6') {
    const mapped = MAPPED_IPV4.exec(value);
    if (mapped) {
      const high = parseInt(mapped[1] as string, 16);
      const low = parseInt(mapped[2] as string, 16);
      return { type: 'ipv4', value: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}` };
    }
  }
  return { type, value };
}

/**
 * Parses one raw indicator: refangs it (`hxxp`, `[.]`, ...), detects its type (or reads
 * `type:value`, e.g. `domain:example.org`, `ip:...`, `hash:...`) and normalizes it (lower-case
 * hashes and hosts, punycode, canonical IPv6, URL scheme and host). An `Observable` object is
 * validated and normalized for its own type.
 *
 * @throws XEnrichError `X_OBSERVABLE_INVALID` (the message names the input and the reason) or
 *   `X_OBSERVABLE_UNSUPPORTED_TYPE` for an unknown `type:` prefix. Nothing else, whatever the input.
 */
export function parseObservable(raw: string | Observable): ParsedObservable {
  if (typeof raw === 'string') return parseString(raw);
  if (typeof raw === 'object' && raw !== null && typeof raw.value === 'string') {
    return { observable: normalizeObservable(raw), input: raw.value };
  }
  throw invalid(String(raw), 'expected a string or an { type, value } object');
}

/** Like `parseObservable`, but returns `{ ok: false, input, error }` instead of throwing. */
export function tryParseObservable(raw: string | Observable): ParseObservableResult {
  try {
    return { ok: true, ...parseObservable(raw) };
  } catch (error) {
    const input = typeof raw === 'string' ? raw : String((raw as { value?: unknown } | null)?.value ?? '');
    if (error instanceof XEnrichError) return { ok: false, input, error };
    // Unreachable by design (property-tested); kept so a bug never escapes as a non-XEnrichError.
    return { ok: false, input, error: invalid(input, 'internal parser error', undefined) };
  }
}

/**
 * Validates and normalizes an observable whose type is already known (for `{ type, value }`
 * inputs from hosts). The value is refanged and trimmed first.
 * @throws XEnrichError `X_OBSERVABLE_INVALID`, or `X_OBSERVABLE_UNSUPPORTED_TYPE` for an unknown type.
 */
export function normalizeObservable(observable: Observable): Observable {
  const { type, value } = observable;
  if (!isObservableType(type)) {
    throw new XEnrichError('X_OBSERVABLE_UNSUPPORTED_TYPE', `${show(String(type))} is not a supported observable type (use one of ${OBSERVABLE_TYPES.join(', ')})`, {
      details: { type },
    });
  }
  if (typeof value !== 'string') throw invalid(String(value), 'the value is not a string', type);
  const trimmed = refang(value.trim()).trim();
  if (trimmed === '') throw invalid(value, 'it is empty', type);
  if (CONTROL.test(trimmed)) throw invalid(value, 'it contains control characters', type);
  const check = checkObservable(type, trimmed);
  if (!check.ok) throw invalid(value, check.reason, type);
  return canonical(type, check.value);
}
