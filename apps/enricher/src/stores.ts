import { openStores, type EnricherConfig, type Logger, type OpenedStores } from '@x/core';

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

/** The stores as the app uses them: core's `openStores` result (one path from config to stores). */
export type AppStores = OpenedStores;

/**
 * The app's choice of core's `openStores` options: the CLI defaults to file stores and sweeps
 * the cache at start; `serve` defaults to memory and sweeps a file cache daily while it runs.
 * Redis comes from `@x/store-redis`, imported only when configured so the CLI starts fast
 * without it. The caller closes the stores (`OpenedEnricher.close`), once.
 */
export function buildStores(config: { cache?: EnricherConfig['cache']; rateLimitStore?: EnricherConfig['rateLimitStore'] }, choice: StoreChoice): Promise<AppStores> {
  return openStores(config, {
    defaults: choice.mode === 'cli' ? 'persistent' : 'memory',
    cacheDir: choice.cacheDir,
    noCache: choice.noCache,
    prune: choice.noPrune ? 'off' : choice.mode === 'serve' ? 'daily-while-open' : 'daily',
    logger: choice.logger,
    openShared: async (settings) => (await import('@x/store-redis')).createRedisStores({ ...settings, logger: choice.logger }),
  });
}

/** The health of one shared (Redis) store connection, for `/healthz` and `/metrics`. */
export type { SharedStoreHealth as SharedStoreStats } from '@x/core';
