/** Every kind of observable x-enrich understands. Order is stable and used in docs and schemas. */
export const OBSERVABLE_TYPES = ['ipv4', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256'] as const;

export type ObservableType = (typeof OBSERVABLE_TYPES)[number];

/** The three hash types share a lookup in most intel APIs. */
export const HASH_TYPES = ['md5', 'sha1', 'sha256'] as const satisfies readonly ObservableType[];

/** A normalized observable: `value` is canonical (lower-case hashes and hosts, punycode, canonical IPv6). */
export interface Observable {
  readonly type: ObservableType;
  readonly value: string;
}

export function isObservableType(value: unknown): value is ObservableType {
  return typeof value === 'string' && (OBSERVABLE_TYPES as readonly string[]).includes(value);
}
