import { XEnrichError } from '@x/core';
import { loadAppConfig, type AppConfig } from '../app-config.js';
import { ExitCode } from '../exit-codes.js';
import type { LogLevel } from '../logger.js';
import { commandLogger } from '../open-enricher.js';
import { writeOut } from '../run-command.js';
import { buildStores, type AppStores } from '../stores.js';

interface CacheOptions {
  config?: string;
  logLevel?: LogLevel;
  cacheDir?: string;
}

/**
 * The cache `enrich` would use: the config's when there is one, else the default file cache
 * (it exists whether or not a config does, so these commands work without one).
 */
async function openCache(options: CacheOptions): Promise<AppStores> {
  let config: Pick<AppConfig, 'cache' | 'rateLimitStore'> = { cache: undefined, rateLimitStore: { store: 'memory' } };
  try {
    config = (await loadAppConfig(options.config)).config;
  } catch (error) {
    const noDefaultConfig = !options.config && error instanceof XEnrichError && error.code === 'X_CONFIG_NOT_FOUND';
    if (!noDefaultConfig) throw error;
  }
  // The rate-limit store is not this command's business: never connect to it.
  return buildStores({ cache: config.cache, rateLimitStore: { store: 'memory' } }, { mode: 'cli', cacheDir: options.cacheDir, noPrune: true, logger: commandLogger(options.logLevel, 'warn') });
}

/** The cache in use, for people: `file store in DIR`, `redis redis://host (prefix x:)`, ... */
const cacheName = (stores: AppStores): string => stores.description.split('; ')[0]!.replace(/^cache: /, '');

/** Why there is nothing to do for a cache that is not a file store. */
function nothingToDo(stores: AppStores, verb: 'prune' | 'clear'): string | undefined {
  if (stores.cacheKind === 'off') return `Caching is off in the config (cache: false); there is nothing to ${verb}.\n`;
  if (stores.cacheKind === 'memory') return `The config caches in memory, which lives only inside a running process; there is nothing to ${verb}.\n`;
  if (stores.cacheKind === 'redis' && verb === 'prune') return `The cache is ${cacheName(stores)}: Redis expires entries itself; there is nothing to prune.\n`;
  return undefined;
}

/**
 * Opens the cache, prints why there is nothing to do or what `act` did, and closes it. `act` runs
 * only for a cache it applies to: a file store for `prune`, a file or Redis store for `clear`.
 */
async function onCache(options: CacheOptions, verb: 'prune' | 'clear', act: (stores: AppStores) => Promise<string>): Promise<ExitCode> {
  const stores = await openCache(options);
  try {
    await writeOut(nothingToDo(stores, verb) ?? (await act(stores)));
    return ExitCode.Ok;
  } finally {
    await stores.close();
  }
}

/** `cache prune`: removes the file cache's expired entries now (runs also do it once a day). */
export function cachePruneCommand(options: CacheOptions): Promise<ExitCode> {
  return onCache(options, 'prune', async ({ fileCache }) => {
    if (!fileCache) return '';
    const { removed, kept } = await fileCache.prune();
    return `${fileCache.dir}: removed ${removed} expired entr${removed === 1 ? 'y' : 'ies'}; ${kept} still valid.\n`;
  });
}

/** `cache clear`: drops every cached outcome (file, or Redis under the configured prefix). */
export function cacheClearCommand(options: CacheOptions): Promise<ExitCode> {
  return onCache(options, 'clear', async (stores) => {
    if (!stores.cache) return '';
    await stores.cache.clear();
    return `Cleared the cache: ${cacheName(stores)}.\n`;
  });
}
