import envPaths from 'env-paths';
import { createFileCacheStore, createMemoryCacheStore, type CacheStore, type CoalescingStore, type EnricherConfig, type Logger, type RateLimitStore } from '@x/core';
import type { RedisStoresStats } from '@x/store-redis';

/**
 * Entries the file store keeps parsed in memory when the config does not choose: the files
 * are the cache, this is only a read-through layer. A VirusTotal outcome is ~15 KB once parsed,
 * so 2,000 keep a 100,000-line batch well under 300 MB while repeats in a run stay in memory.
 */
export const FILE_STORE_MEMORY_ENTRIES = 2_000;

/** Where the CLI keeps its persistent cache by default (`~/.cache/x-enrich` on Linux, per env-paths). */
export function defaultCacheDir(): string {
  return envPaths('x-enrich', { suffix: '' }).cache;
}

export interface StoreChoice {
  /** `cli`: a persistent file cache by default, so a second run spends no quota. `serve`: memory by default. */
  mode: 'cli' | 'serve';
  /** `--cache-dir`: a file cache in this directory, whatever the config says (not for redis). */
  cacheDir?: string;
  /** `--no-cache`: no cache at all. */
  noCache?: boolean;
  logger: Logger;
}

export interface AppStores {
  cache: CacheStore | false;
  rateLimit?: RateLimitStore;
  coalescing?: CoalescingStore;
  /** One line for people: which stores are in use. */
  description: string;
  /** Status and fallback counters of each Redis connection in use (empty without Redis). */
  sharedStores(): SharedStoreStats[];
  close(): Promise<void>;
}

/** The `cache` section as the app reads it: absent means "the default for this command". */
type CacheConfig = EnricherConfig['cache'] | undefined;
type RedisStores = { cache: CacheStore; rateLimit: RateLimitStore; coalescing: CoalescingStore; stats(): RedisStoresStats; close(): Promise<void> };

/** The health of one shared (Redis) store connection, for `/metrics`. */
export interface SharedStoreStats {
  /** `redis <url without credentials> <prefix>`. */
  store: string;
  stats: RedisStoresStats;
}

/** A Redis URL for logs: `redis://:secret@host` -> `redis://***@host` (the description is logged by `serve`). */
const withoutCredentials = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

/**
 * Builds the cache and rate-limit stores from the config and the command line. Redis comes
 * from `@x/store-redis`, imported only when configured so the CLI starts fast without it.
 */
export async function buildStores(config: { cache?: CacheConfig; rateLimitStore: EnricherConfig['rateLimitStore'] }, choice: StoreChoice): Promise<AppStores> {
  const closers: Array<() => Promise<void>> = [];
  const redisByUrl = new Map<string, Promise<RedisStores>>();
  const opened: Array<{ store: string; stores: RedisStores }> = [];
  const redis = (settings: { url: string; keyPrefix: string; onUnavailable: 'fallback' | 'refuse' }): Promise<RedisStores> => {
    const id = `${settings.url}\n${settings.keyPrefix}\n${settings.onUnavailable}`;
    let stores = redisByUrl.get(id);
    if (!stores) {
      stores = import('@x/store-redis').then(({ createRedisStores }) => createRedisStores({ ...settings, logger: choice.logger }));
      stores
        .then((redisStores) => {
          closers.push(() => redisStores.close());
          opened.push({ store: `redis ${withoutCredentials(settings.url)} ${settings.keyPrefix}`, stores: redisStores });
        })
        .catch(() => undefined);
      redisByUrl.set(id, stores);
    }
    return stores;
  };

  let cache: CacheStore | false;
  let coalescing: CoalescingStore | undefined;
  let description: string;
  const configured = config.cache;
  if (choice.noCache || configured === false) {
    cache = false;
    description = 'cache: off';
  } else if (choice.cacheDir || (configured === undefined && choice.mode === 'cli') || configured?.store === 'file') {
    const dir = choice.cacheDir ?? (configured?.store === 'file' ? configured.dir : undefined) ?? defaultCacheDir();
    const maxEntries = configured?.store === 'file' ? configured.maxEntries : FILE_STORE_MEMORY_ENTRIES;
    cache = createFileCacheStore({ dir, maxEntries });
    description = `cache: file store in ${dir}`;
  } else if (configured?.store === 'redis') {
    const shared = await redis(configured);
    cache = shared.cache;
    coalescing = shared.coalescing;
    description = `cache: redis ${withoutCredentials(configured.url)} (prefix ${configured.keyPrefix})`;
  } else {
    cache = createMemoryCacheStore({ maxEntries: configured?.maxEntries });
    description = 'cache: memory';
  }

  let rateLimit: RateLimitStore | undefined;
  if (config.rateLimitStore.store === 'redis') {
    rateLimit = (await redis(config.rateLimitStore)).rateLimit;
    description += `; rate limits: redis ${withoutCredentials(config.rateLimitStore.url)}`;
  } else {
    description += '; rate limits: memory';
  }

  if (cache && cache.close) closers.push(() => (cache as CacheStore).close!());
  return {
    cache,
    rateLimit,
    coalescing,
    description,
    sharedStores: () => opened.map(({ store, stores }) => ({ store, stats: stores.stats() })),
    async close() {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
