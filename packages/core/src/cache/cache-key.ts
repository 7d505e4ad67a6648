import { createHash } from 'node:crypto';
import type { Observable } from '../contract/observable-type.js';

/** JSON with object keys sorted at every level, so equal options always serialize the same way. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * A short fingerprint (16 hex chars of sha256) of an instance's parsed options. Any change,
 * a new API key or threshold, changes it and so invalidates the cache; the secret itself never
 * appears in a key, only in the one-way hash.
 */
export function optionsFingerprint(options: unknown): string {
  return createHash('sha256').update(canonicalJson(options)).digest('hex').slice(0, 16);
}

/** `<instance>:<optionsFingerprint>:<type>:<value>` */
export function cacheKey(instance: string, fingerprint: string, observable: Observable): string {
  return `${instance}:${fingerprint}:${observable.type}:${observable.value}`;
}
