import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { createFileCacheStore } from '../cache/file-cache-store.js';
import { createMemoryCacheStore } from '../cache/memory-cache-store.js';
import { createFileRateLimitStore } from '../rate-limit/file-rate-limit-store.js';
import type { EnricherConfig } from '../config/config-schema.js';
import type { Clock } from '../di/tokens.js';
import { XEnrichError } from '../errors/x-enrich-error.js';
import type { Logger } from '../logging/logger.js';
import { loadProviders, type ProviderWarning } from '../plugin/loader.js';
import type { CacheStore } from '../stores/cache-store.js';
import type { CoalescingStore, RateLimitStore } from '../stores/rate-limit-store.js';
import { createEnricher, type Enricher } from './enricher.js';
import type { EnricherEvent } from './events.js';

export interface EnricherFromConfigOptions {
  /** Directory plugin names and relative paths (and a relative file-cache dir) resolve from. Default: cwd. */
  importFrom?: string;
  logger?: Logger;
  container?: DependencyContainer;
  /** Shared stores, required when the config names `redis` (build them with `@x/store-redis`). */
  stores?: { cache?: CacheStore; rateLimit?: RateLimitStore; coalescing?: CoalescingStore };
  clock?: Clock;
  onEvent?: (event: EnricherEvent) => void;
  onWarning?: (warning: ProviderWarning) => void;
}

/** Where the file cache lives when `cache.dir` is not set: `$XDG_CACHE_HOME/x-enrich` or `~/.cache/x-enrich`. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'x-enrich');
}

/** Where a file rate-limit store keeps its budgets by default: `rate-limits` inside the file cache's directory. */
export function defaultRateLimitDir(cacheDir: string): string {
  return join(cacheDir, 'rate-limits');
}

function redisNeeded(what: string): XEnrichError {
  return new XEnrichError('X_CONFIG_INVALID', `${what} is "redis", but no shared store was passed: create it with @x/store-redis (createRedisStores) and pass it as \`stores\`.`);
}

/**
 * Loads the config's provider instances (`loadProviders`) and builds the engine with the
 * stores the config names: memory or file caches are created here; for `redis` the caller
 * passes `stores` (core does not depend on a Redis client).
 * @throws the loader's errors (X_PLUGIN_*, X_CONFIG_INVALID) with every problem listed.
 */
export async function createEnricherFromConfig(config: EnricherConfig, options: EnricherFromConfigOptions = {}): Promise<Enricher> {
  const base = options.importFrom ?? process.cwd();
  let cacheStore: CacheStore | false;
  if (config.cache === false) cacheStore = false;
  else if (config.cache.store === 'memory') cacheStore = options.stores?.cache ?? createMemoryCacheStore({ maxEntries: config.cache.maxEntries, clock: options.clock });
  else if (config.cache.store === 'file') cacheStore = createFileCacheStore({ dir: resolve(base, config.cache.dir ?? defaultCacheDir()), maxEntries: config.cache.maxEntries, clock: options.clock });
  else if (options.stores?.cache) cacheStore = options.stores.cache;
  else throw redisNeeded('cache.store');

  let rateLimitStore: RateLimitStore | undefined;
  if (config.rateLimitStore.store === 'redis') {
    if (!options.stores?.rateLimit) throw redisNeeded('rateLimitStore.store');
    rateLimitStore = options.stores.rateLimit;
  } else if (config.rateLimitStore.store === 'file') {
    rateLimitStore = createFileRateLimitStore({ dir: resolve(base, config.rateLimitStore.dir ?? defaultRateLimitDir(config.cache !== false && config.cache.store === 'file' ? resolve(base, config.cache.dir ?? defaultCacheDir()) : defaultCacheDir())), logger: options.logger });
  } else {
    rateLimitStore = options.stores?.rateLimit;
  }

  const providers = await loadProviders(config, {
    importFrom: options.importFrom,
    logger: options.logger,
    onWarning: options.onWarning,
    allowEndOfLife: config.allowEndOfLife,
  });
  return createEnricher({
    providers,
    cacheStore,
    rateLimitStore,
    coalescingStore: options.stores?.coalescing,
    logger: options.logger,
    container: options.container,
    clock: options.clock,
    concurrency: config.concurrency,
    lookupPrivateAddresses: config.lookupPrivateAddresses,
    onEvent: options.onEvent,
  });
}
