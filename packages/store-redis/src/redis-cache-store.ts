import type { CacheEntry, CacheStore, Logger } from '@x/core';
import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';

/** Parses a stored entry; anything malformed is a miss (and is deleted), never an exception. */
function parseEntry(raw: string): CacheEntry | undefined {
  try {
    const entry = JSON.parse(raw) as Partial<CacheEntry>;
    if (typeof entry !== 'object' || entry === null) return undefined;
    if (typeof entry.storedAt !== 'number' || typeof entry.expiresAt !== 'number' || !('value' in entry)) return undefined;
    return { value: entry.value, storedAt: entry.storedAt, expiresAt: entry.expiresAt };
  } catch {
    return undefined;
  }
}

/**
 * A `CacheStore` on Redis only (no fallback: `createRedisStores` adds that). An entry is stored
 * as the JSON of the whole `CacheEntry`, so `storedAt` (provenance) survives, and Redis expires
 * it at `expiresAt` (PX), so the store never grows past the live entries.
 */
export function createRedisCacheStore(client: Redis, keys: KeyLayout, logger: Logger): CacheStore {
  return {
    async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
      const raw = await client.get(keys.cache(key));
      if (raw === null) return undefined;
      const entry = parseEntry(raw);
      if (!entry) {
        logger.warn({ key }, 'Dropping a malformed cache entry from Redis');
        await client.del(keys.cache(key));
        return undefined;
      }
      // PX has millisecond resolution on the server's clock; also honour the engine's own clock.
      if (entry.expiresAt <= Date.now()) return undefined;
      return entry as CacheEntry<T>;
    },

    async set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
      const ttlMs = Math.ceil(entry.expiresAt - Date.now());
      if (!(ttlMs > 0)) {
        // Already stale: storing it would only serve a miss later; drop any older copy instead.
        await client.del(keys.cache(key));
        return;
      }
      const json = JSON.stringify({ value: entry.value, storedAt: entry.storedAt, expiresAt: entry.expiresAt });
      await client.set(keys.cache(key), json, 'PX', ttlMs);
    },

    async delete(key: string): Promise<void> {
      await client.del(keys.cache(key));
    },

    async clear(): Promise<void> {
      // SCAN in pages (never KEYS, which blocks a shared server) and UNLINK (non-blocking delete).
      let cursor = '0';
      do {
        const [next, found] = await client.scan(cursor, 'MATCH', keys.cachePattern(), 'COUNT', 1000);
        cursor = next;
        if (found.length > 0) await client.unlink(...found);
      } while (cursor !== '0');
    },
  };
}
