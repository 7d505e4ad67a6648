import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import envPaths from 'env-paths';
import {
  createFileCacheStore,
  createFileRateLimitStore,
  defaultRateLimitDir,
  createMemoryCacheStore,
  type CacheStore,
  type CoalescingStore,
  type EnricherConfig,
  type FileCacheStore,
  type Logger,
  type RateLimitStore,
} from '@x/core';
import type { RedisStoresStats } from '@x/store-redis';


/** Where the CLI keeps its persistent cache by default (`~/.cache/x-enrich` on Linux, per env-paths). */
export function defaultCacheDir(): string {
  return envPaths('x-enrich', { suffix: '' }).cache;
}

/**
 * How often the file cache is swept of expired entries. Entries are also removed when read, but
 * a cache used for years of different observables would otherwise only grow.
 */
export const FILE_CACHE_PRUNE_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** Its modification time is the last sweep; shared by every process using the directory. */
export const FILE_CACHE_PRUNE_STAMP = '.last-prune';

/**
 * Prunes the file cache when the last sweep (by any process) is older than a day. The stamp is
 * written first, so processes starting together do not all sweep.
 */
export async function pruneFileCacheIfDue(store: FileCacheStore, logger: Logger, now = Date.now()): Promise<boolean> {
  const stamp = join(store.dir, FILE_CACHE_PRUNE_STAMP);
  const last = await stat(stamp).then(
    (info) => info.mtimeMs,
    () => undefined,
  );
  if (last !== undefined && now - last < FILE_CACHE_PRUNE_INTERVAL_MS) return false;
  if (last === undefined && !(await stat(store.dir).then(() => true, () => false))) return false; // nothing cached yet
  await mkdir(store.dir, { recursive: true });
  await writeFile(stamp, `last pruned ${new Date(now).toISOString()}\n`);
  const { removed, kept } = await store.prune();
  logger.debug({ dir: store.dir, removed, kept }, 'file cache pruned of expired entries');
  return true;
}

export interface StoreChoice {
  /** `cli`: a persistent file cache by default, so a second run spends no quota. `serve`: memory by default. */
  mode: 'cli' | 'serve';
  /** `--cache-dir`: a file cache in this directory, whatever the config says (not for redis). */
  cacheDir?: string;
  /** `--no-cache`: no cache at all. */
  noCache?: boolean;
  /** Do not start the daily sweep of a file cache (`cache prune` sweeps itself). */
  noPrune?: boolean;
  logger: Logger;
}

export interface AppStores {
  cache: CacheStore | false;
  /** Which kind of cache `cache` is. */
  cacheKind: 'off' | 'memory' | 'file' | 'redis';
  /** The file store when the cache is one (for `cache prune`). */
  fileCache?: FileCacheStore;
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
export async function buildStores(config: { cache?: CacheConfig; rateLimitStore?: EnricherConfig['rateLimitStore'] }, choice: StoreChoice): Promise<AppStores> {
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
  let fileCache: FileCacheStore | undefined;
  let cacheKind: AppStores['cacheKind'];
  let coalescing: CoalescingStore | undefined;
  let description: string;
  const configured = config.cache;
  if (choice.noCache || configured === false) {
    cache = false;
    cacheKind = 'off';
    description = 'cache: off';
  } else if (choice.cacheDir || (configured === undefined && choice.mode === 'cli') || configured?.store === 'file') {
    const dir = choice.cacheDir ?? (configured?.store === 'file' ? configured.dir : undefined) ?? defaultCacheDir();
    // Without a file section, core's default (FILE_CACHE_MEMORY_BYTES, 64 MiB) bounds a batch's memory.
    const file = configured?.store === 'file' ? configured : undefined;
    cache = fileCache = createFileCacheStore({ dir, maxEntries: file?.maxEntries, maxMemoryBytes: file?.maxMemoryBytes });
    cacheKind = 'file';
    description = `cache: file store in ${dir}`;
    if (!choice.noPrune) {
      const store = fileCache;
      const sweep = () =>
        pruneFileCacheIfDue(store, choice.logger).catch((error: unknown) => {
          choice.logger.warn({ err: error, dir }, 'could not prune the file cache; it keeps working');
        });
      // In the background; close() waits for it rather than cutting it short. The temporary files
      // of writers killed mid-write go at every start (the daily sweep also removes old ones).
      let pruning: Promise<unknown> = store
        .removeAbandonedTemps()
        .catch(() => 0)
        .then(sweep);
      closers.push(async () => {
        await pruning;
      });
      if (choice.mode === 'serve') {
        // A service runs for days: look every hour whether a day has passed since the last sweep.
        const timer = setInterval(() => (pruning = pruning.then(sweep)), FILE_CACHE_PRUNE_INTERVAL_MS / 24);
        timer.unref();
        closers.push(async () => clearInterval(timer));
      }
    }
  } else if (configured?.store === 'redis') {
    const shared = await redis(configured);
    cache = shared.cache;
    cacheKind = 'redis';
    coalescing = shared.coalescing;
    description = `cache: redis ${withoutCredentials(configured.url)} (prefix ${configured.keyPrefix})`;
  } else {
    cache = createMemoryCacheStore({ maxEntries: configured?.maxEntries });
    cacheKind = 'memory';
    description = 'cache: memory';
  }

  let rateLimit: RateLimitStore | undefined;
  const rateConfig = config.rateLimitStore;
  if (rateConfig?.store === 'redis') {
    rateLimit = (await redis(rateConfig)).rateLimit;
    description += `; rate limits: redis ${withoutCredentials(rateConfig.url)}`;
  } else if (rateConfig?.store === 'file' || (rateConfig === undefined && choice.mode === 'cli')) {
    // The CLI's quota lives as long as the key: back-to-back and parallel runs share one budget.
    const cacheDir = choice.cacheDir ?? (configured && configured.store === 'file' ? configured.dir : undefined) ?? defaultCacheDir();
    const dir = (rateConfig?.store === 'file' ? rateConfig.dir : undefined) ?? defaultRateLimitDir(cacheDir);
    rateLimit = createFileRateLimitStore({ dir, logger: choice.logger });
    description += `; rate limits: file store in ${dir}`;
  } else {
    description += '; rate limits: memory';
  }

  if (cache && cache.close) closers.push(() => (cache as CacheStore).close!());
  return {
    cache,
    cacheKind,
    fileCache,
    rateLimit,
    coalescing,
    description,
    sharedStores: () => opened.map(({ store, stores }) => ({ store, stats: stores.stats() })),
    async close() {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
