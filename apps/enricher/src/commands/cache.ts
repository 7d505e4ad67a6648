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

/** `cache prune`: removes the file cache's expired entries now (runs also do it once a day). */
export async function cachePruneCommand(options: CacheOptions): Promise<ExitCode> {
  const stores = await openCache(options);
  try {
    const nothing = nothingToDo(stores, 'prune');
    if (nothing || !stores.fileCache) {
      await writeOut(nothing ?? '');
      return ExitCode.Ok;
    }
    const { removed, kept } = await stores.fileCache.prune();
    await writeOut(`${stores.fileCache.dir}: removed ${removed} expired entr${removed === 1 ? 'y' : 'ies'}; ${kept} still valid.\n`);
    return ExitCode.Ok;
  } finally {
    await stores.close();
  }
}

/** `cache clear`: drops every cached outcome (file, Redis under the configured prefix, or nothing for memory). */
export async function cacheClearCommand(options: CacheOptions): Promise<ExitCode> {
  const stores = await openCache(options);
  try {
    const nothing = nothingToDo(stores, 'clear');
    if (nothing || !stores.cache) {
      await writeOut(nothing ?? '');
      return ExitCode.Ok;
    }
    await stores.cache.clear();
    await writeOut(`Cleared the cache: ${cacheName(stores)}.\n`);
    return ExitCode.Ok;
  } finally {
    await stores.close();
  }
}
