/** A cached provider outcome with its provenance. `value` is JSON-serializable. */
export interface CacheEntry<T = unknown> {
  value: T;
  /** Epoch ms when the outcome was fetched from upstream. */
  storedAt: number;
  /** Epoch ms after which the entry is stale. */
  expiresAt: number;
}

/**
 * Where outcomes are cached. Keys are opaque strings built by the engine
 * (`<instance>:<options fingerprint>:<type>:<value>`); they never contain secrets.
 * Implementations: in-memory LRU (default), a file store (CLI), Redis (@x/store-redis).
 * A store must not throw on a miss; it may throw `XEnrichError('X_STORE_UNAVAILABLE')`.
 */
export interface CacheStore {
  get<T = unknown>(key: string): Promise<CacheEntry<T> | undefined>;
  set<T = unknown>(key: string, entry: CacheEntry<T>): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drops everything this store holds (for tests and `cache clear`). */
  clear(): Promise<void>;
  close?(): Promise<void>;
}
