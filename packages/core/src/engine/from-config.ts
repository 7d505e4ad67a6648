import type { DependencyContainer } from 'tsyringe';
import type { EnricherConfig } from '../config/config-schema.js';
import type { Clock } from '../contract/tokens.js';
import type { Logger } from '../contract/logger.js';
import { loadProviders, type ProviderWarning } from '../plugin/loader.js';
import { openStores, type OpenStoresOptions } from '../stores/open-stores.js';
import { createEnricher, type Enricher } from './enricher.js';
import type { EnricherEvent } from './events.js';

export interface EnricherFromConfigOptions {
  /** Directory plugin names and relative paths (and a relative file-cache dir) resolve from. Default: cwd. */
  importFrom?: string;
  logger?: Logger;
  container?: DependencyContainer;
  /**
   * Opens the stores a `redis` section names: `(settings) => createRedisStores({ ...settings, logger })`
   * from `@x/store-redis` (core has no Redis client). What it opens, the enricher's `close()` closes.
   */
  openShared?: OpenStoresOptions['openShared'];
  clock?: Clock;
  onEvent?: (event: EnricherEvent) => void;
  onWarning?: (warning: ProviderWarning) => void;
}

/**
 * Loads the config's provider instances (`loadProviders`) and builds the engine over the stores
 * the config names, opened by `openStores` (the path the CLI and the service take too). The
 * returned enricher's `close()` closes the providers, then the stores opened here.
 * @throws the loader's errors (X_PLUGIN_*, X_CONFIG_INVALID) with every problem listed.
 */
export async function createEnricherFromConfig(config: EnricherConfig, options: EnricherFromConfigOptions = {}): Promise<Enricher> {
  const stores = await openStores(config, { baseDir: options.importFrom, logger: options.logger, clock: options.clock, openShared: options.openShared });
  try {
    const providers = await loadProviders(config, {
      importFrom: options.importFrom,
      logger: options.logger,
      onWarning: options.onWarning,
      allowEndOfLife: config.allowEndOfLife,
    });
    const enricher = createEnricher({
      providers,
      cacheStore: stores.cache,
      rateLimitStore: stores.rateLimit,
      coalescingStore: stores.coalescing,
      logger: options.logger,
      container: options.container,
      clock: options.clock,
      concurrency: config.concurrency,
      lookupPrivateAddresses: config.lookupPrivateAddresses,
      onEvent: options.onEvent,
    });
    return {
      ...enricher,
      async close() {
        await enricher.close();
        await stores.close();
      },
    };
  } catch (error) {
    await stores.close();
    throw error;
  }
}
