import { resolve } from 'node:path';
import envPaths from 'env-paths';
import { FILE_CACHE_PRUNE_INTERVAL_MS, pruneFileCacheIfDue } from '../cache/file-cache-prune.js';
import { createFileCacheStore, type FileCacheStore } from '../cache/file-cache-store.js';
import { createMemoryCacheStore } from '../cache/memory-cache-store.js';
import type { EnricherConfig } from '../config/config-schema.js';
import { redactUrlCredentials } from '../contract/secret.js';
import { systemClock, type Clock } from '../contract/tokens.js';
import type { CacheStore } from '../contract/cache-store.js';
import type { CoalescingStore, RateLimitStore } from '../contract/rate-limit-store.js';
import type { SharedStores, SharedStoresStats } from '../contract/shared-stores.js';
import { XEnrichError } from '../contract/x-enrich-error.js';
import { silentLogger, type Logger } from '../contract/logger.js';
import { createFileRateLimitStore } from '../rate-limit/file-rate-limit-store.js';

/**
 * Where the file cache lives when nothing names a directory: the platform's user cache directory
 * (`$XDG_CACHE_HOME/x-enrich` or `~/.cache/x-enrich` on Linux, `~/Library/Caches/x-enrich` on
 * macOS, `%LOCALAPPDATA%\x-enrich\Cache` on Windows), per env-paths. The one default: the CLI,
 * the service and `createEnricherFromConfig` all come here.
 */
export function defaultCacheDir(): string {
  return envPaths('x-enrich', { suffix: '' }).cache;
}

/** Where a file rate-limit store keeps its budgets by default: `rate-limits` inside the file cache's directory. */
export function defaultRateLimitDir(cacheDir: string): string {
  return resolve(cacheDir, 'rate-limits');
}

type CacheSection = EnricherConfig['cache'];
type RateLimitSection = EnricherConfig['rateLimitStore'];
/** A `redis` section of `cache` or `rateLimitStore`: what a shared-store factory connects to. */
export type SharedStoreSettings = Extract<CacheSection | RateLimitSection, { store: 'redis' }>;

export interface OpenStoresOptions {
  /**
   * What an absent `cache` / `rateLimitStore` section means. `memory` (the default): a memory
   * cache and per-process budgets, right for a service. `persistent`: a file cache in
   * `defaultCacheDir()` and file budgets beside it, so a second CLI run spends no quota and
   * runs on one machine share one budget.
   */
  defaults?: 'memory' | 'persistent';
  /** A file cache in this directory, whatever the config says (`--cache-dir`; not for redis). */
  cacheDir?: string;
  /** No cache at all, whatever the config says (`--no-cache`). */
  noCache?: boolean;
  /**
   * Sweeping a file cache of expired entries: `off` (the default), `daily` (at open, when the
   * last sweep by any process is older than a day), `daily-while-open` (and then look every
   * hour; for a service that runs for days).
   */
  prune?: 'off' | 'daily' | 'daily-while-open';
  /** Directory relative `dir`s resolve from. Default: the current directory. */
  baseDir?: string;
  logger?: Logger;
  clock?: Clock;
  /**
   * Connects the `redis` sections (`@x/store-redis`'s `createRedisStores` fits). Core does not
   * depend on a Redis client: without this, a config naming `redis` fails with X_CONFIG_INVALID.
   * Called once per distinct url / prefix / behaviour; what it returns is closed by `close()`.
   */
  openShared?: (settings: SharedStoreSettings) => Promise<SharedStores>;
}

/** The health of one shared store connection, for `/healthz` and `/metrics`. */
export interface SharedStoreHealth {
  /** `redis <url without credentials> <prefix>`. */
  store: string;
  stats: SharedStoresStats;
}

/** The stores a config names, opened, with the one `close()` that shuts them. */
export interface OpenedStores {
  cache: CacheStore | false;
  /** Which kind of cache `cache` is. */
  cacheKind: 'off' | 'memory' | 'file' | 'redis';
  /** The file store when the cache is one (for `cache prune`). */
  fileCache?: FileCacheStore;
  /** Undefined: per-process memory budgets (the engine makes them). */
  rateLimit?: RateLimitStore;
  coalescing?: CoalescingStore;
  /** One line for people, without credentials: which stores are in use. */
  description: string;
  /** Status and fallback counters of each shared connection in use (empty without one). */
  sharedStores(): SharedStoreHealth[];
  /**
   * Closes every store opened here, once (a second call waits for the first): the opener owns
   * its stores, and the engine they are passed to does not close them.
   */
  close(): Promise<void>;
}

const sharedNeeded = (what: string): XEnrichError =>
  new XEnrichError('X_CONFIG_INVALID', `${what} is "redis", but no shared store was passed: create it with @x/store-redis (createRedisStores) and pass it (openShared / stores).`);

/**
 * The one path from config to stores, used by the CLI, the service and `createEnricherFromConfig`:
 * opens the cache, rate-limit and coalescing stores the `cache` and `rateLimitStore` sections
 * name (absent sections take `defaults`), with every default (directories included) decided here.
 * @throws X_CONFIG_INVALID when a section names `redis` and `openShared` is missing.
 */
export async function openStores(config: { cache?: CacheSection; rateLimitStore?: RateLimitSection }, options: OpenStoresOptions = {}): Promise<OpenedStores> {
  const logger = options.logger ?? silentLogger;
  const base = options.baseDir ?? process.cwd();
  const persistent = options.defaults === 'persistent';
  const closers: Array<() => Promise<void>> = [];
  const sharedById = new Map<string, Promise<SharedStores>>();
  const opened: Array<{ store: string; connected: SharedStores }> = [];
  const shared = (settings: SharedStoreSettings, what: string): Promise<SharedStores> => {
    const { openShared } = options;
    if (!openShared) throw sharedNeeded(what);
    const id = `${settings.url}\n${settings.keyPrefix}\n${settings.onUnavailable}`;
    let stores = sharedById.get(id);
    if (!stores) {
      stores = openShared(settings);
      stores.then(
        (connected) => {
          closers.push(() => connected.close());
          opened.push({ store: `redis ${redactUrlCredentials(settings.url)} ${settings.keyPrefix}`, connected });
        },
        () => undefined,
      );
      sharedById.set(id, stores);
    }
    return stores;
  };

  const configured = config.cache;
  const fileDir = configured && configured.store === 'file' ? configured.dir : undefined;
  // The directory a file cache uses, and beside which file budgets live: the command line's, the config's, the platform's.
  const cacheDir = resolve(base, options.cacheDir ?? fileDir ?? defaultCacheDir());

  let cache: CacheStore | false;
  let fileCache: FileCacheStore | undefined;
  let cacheKind: OpenedStores['cacheKind'];
  let coalescing: CoalescingStore | undefined;
  let description: string;
  if (options.noCache || configured === false) {
    cache = false;
    cacheKind = 'off';
    description = 'cache: off';
  } else if (options.cacheDir || (configured === undefined && persistent) || configured?.store === 'file') {
    // Without a file section, core's default (FILE_CACHE_MEMORY_BYTES, 64 MiB) bounds a batch's memory.
    const file = configured?.store === 'file' ? configured : undefined;
    cache = fileCache = createFileCacheStore({ dir: cacheDir, maxEntries: file?.maxEntries, maxMemoryBytes: file?.maxMemoryBytes, clock: options.clock });
    cacheKind = 'file';
    description = `cache: file store in ${cacheDir}`;
    if (options.prune && options.prune !== 'off') closers.push(startPruning(fileCache, options.prune, logger, options.clock ?? systemClock));
  } else if (configured?.store === 'redis') {
    const stores = await shared(configured, 'cache.store');
    cache = stores.cache;
    cacheKind = 'redis';
    coalescing = stores.coalescing;
    description = `cache: redis ${redactUrlCredentials(configured.url)} (prefix ${configured.keyPrefix})`;
  } else {
    cache = createMemoryCacheStore({ maxEntries: configured?.maxEntries, clock: options.clock });
    cacheKind = 'memory';
    description = 'cache: memory';
  }
  if (cache && cache.close) {
    const store = cache;
    if (cacheKind !== 'redis') closers.push(() => store.close!());
  }

  let rateLimit: RateLimitStore | undefined;
  const rateConfig = config.rateLimitStore;
  try {
    if (rateConfig?.store === 'redis') {
      rateLimit = (await shared(rateConfig, 'rateLimitStore.store')).rateLimit;
      description += `; rate limits: redis ${redactUrlCredentials(rateConfig.url)}`;
    } else if (rateConfig?.store === 'file' || (rateConfig === undefined && persistent)) {
      // The CLI's quota lives as long as the key: back-to-back and parallel runs share one budget.
      const dir = resolve(base, (rateConfig?.store === 'file' ? rateConfig.dir : undefined) ?? defaultRateLimitDir(cacheDir));
      const store = createFileRateLimitStore({ dir, logger });
      rateLimit = store;
      if (store.close) closers.push(() => store.close!());
      description += `; rate limits: file store in ${dir}`;
    } else {
      description += '; rate limits: memory';
    }
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()));
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    cache,
    cacheKind,
    fileCache,
    rateLimit,
    coalescing,
    description,
    sharedStores: () => opened.map(({ store, connected }) => ({ store, stats: connected.stats() })),
    close() {
      closing ??= Promise.allSettled(closers.map((close) => close())).then(() => undefined);
      return closing;
    },
  };
}

/**
 * Sweeps in the background; the returned closer waits for a sweep under way rather than cutting
 * it short. The temporary files of writers killed mid-write go at every open (the daily sweep
 * also removes old ones).
 */
function startPruning(store: FileCacheStore, mode: 'daily' | 'daily-while-open', logger: Logger, clock: Clock): () => Promise<void> {
  const sweep = () =>
    pruneFileCacheIfDue(store, logger, clock.now()).catch((error: unknown) => {
      logger.warn({ err: error, dir: store.dir }, 'could not prune the file cache; it keeps working');
    });
  let pruning: Promise<unknown> = store
    .removeAbandonedTemps()
    .catch(() => 0)
    .then(sweep);
  let timer: ReturnType<typeof setInterval> | undefined;
  if (mode === 'daily-while-open') {
    // A service runs for days: look every hour whether a day has passed since the last sweep.
    timer = setInterval(() => (pruning = pruning.then(sweep)), FILE_CACHE_PRUNE_INTERVAL_MS / 24);
    timer.unref();
  }
  return async () => {
    clearInterval(timer);
    await pruning;
  };
}
