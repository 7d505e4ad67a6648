import { Lru } from './lru.js';
import { systemClock, type Clock } from '../contract/tokens.js';
import type { CacheEntry, CacheStore } from '../contract/cache-store.js';

/**
 * Private fast path between core's stores and the engine: an entry already in memory, read
 * synchronously (a cache hit then costs no promise). `undefined` means "ask `get`".
 */
export const GET_SYNC = Symbol.for('x-enrich.cache.getSync');
/**
 * The clock a store's synchronous read decides expiry with. A reader on the same clock passes
 * its own `now` to GET_SYNC, so a cache hit reads the clock once, not once per layer.
 */
export const STORE_CLOCK = Symbol.for('x-enrich.cache.clock');
export type SyncReadable = { [GET_SYNC]?: (key: string, now?: number) => CacheEntry | undefined; [STORE_CLOCK]?: Clock };

/**
 * The same for writes: a synchronous twin of `set`, kept on the `set` function itself so that a
 * wrapper replacing `set` (`{ ...store, set }`) does not carry it along and get bypassed.
 */
export const SET_SYNC = Symbol.for('x-enrich.cache.setSync');
export type SyncWritable = { [SET_SYNC]?: (key: string, entry: CacheEntry) => void };

export interface MemoryCacheStoreOptions {
  /** LRU capacity, a whole number of 1 or more; the least recently used entry is evicted beyond it. Default 100,000. */
  maxEntries?: number;
  /** Decides expiry; pass the enricher's clock in tests. */
  clock?: Clock;
}

/**
 * An in-process LRU `CacheStore` (`Lru`, ./lru.ts). Expired entries are dropped when read.
 * @throws RangeError when `maxEntries` is not a whole number of 1 or more.
 */
export function createMemoryCacheStore(options: MemoryCacheStoreOptions = {}): CacheStore {
  const clock = options.clock ?? systemClock;
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`The memory cache store's maxEntries must be a whole number of 1 or more; got ${String(maxEntries)}.`);
  }
  const lru = new Lru<string, CacheEntry>(maxEntries);
  // `now`: the caller's reading of this store's clock (STORE_CLOCK), to save reading it again.
  const read = (key: string, now?: number): CacheEntry | undefined => {
    const entry = lru.get(key);
    if (entry && entry.expiresAt <= (now ?? clock.now())) {
      lru.delete(key);
      return undefined;
    }
    return entry;
  };
  const write = (key: string, entry: CacheEntry): void => {
    lru.set(key, entry);
  };
  const store: CacheStore & SyncReadable = {
    [GET_SYNC]: read,
    [STORE_CLOCK]: clock,
    async get<T>(key: string) {
      return read(key) as CacheEntry<T> | undefined;
    },
    set: Object.assign(async <T>(key: string, entry: CacheEntry<T>): Promise<void> => write(key, entry as CacheEntry), { [SET_SYNC]: write }),
    async delete(key: string) {
      lru.delete(key);
    },
    async clear() {
      lru.clear();
    },
  };
  return store;
}
