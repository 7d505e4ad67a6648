import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../di/tokens.js';
import type { CacheEntry, CacheStore } from '../stores/cache-store.js';

/**
 * Private fast path between core's stores and the engine: an entry already in memory, read
 * synchronously (a cache hit then costs no promise). `undefined` means "ask `get`".
 */
export const GET_SYNC = Symbol.for('x-enrich.cache.getSync');
export type SyncReadable = { [GET_SYNC]?: (key: string) => CacheEntry | undefined };

export interface MemoryCacheStoreOptions {
  /** LRU capacity; the least recently used entry is evicted beyond it. Default 100,000. */
  maxEntries?: number;
  /** Decides expiry; pass the enricher's clock in tests. */
  clock?: Clock;
}

/** An in-process LRU `CacheStore` (lru-cache). Expired entries are dropped when read. */
export function createMemoryCacheStore(options: MemoryCacheStoreOptions = {}): CacheStore {
  const clock = options.clock ?? systemClock;
  const lru = new LRUCache<string, CacheEntry>({ max: options.maxEntries ?? 100_000 });
  const read = (key: string): CacheEntry | undefined => {
    const entry = lru.get(key);
    if (entry && entry.expiresAt <= clock.now()) {
      lru.delete(key);
      return undefined;
    }
    return entry;
  };
  const store: CacheStore & SyncReadable = {
    [GET_SYNC]: read,
    async get<T>(key: string) {
      return read(key) as CacheEntry<T> | undefined;
    },
    async set<T>(key: string, entry: CacheEntry<T>) {
      lru.set(key, entry as CacheEntry);
    },
    async delete(key: string) {
      lru.delete(key);
    },
    async clear() {
      lru.clear();
    },
  };
  return store;
}
