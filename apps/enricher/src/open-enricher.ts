import { createEnricherFromConfig, type Enricher, type EnricherEvent, type Logger } from '@x/core';
import type { AppConfig } from './app-config.js';
import { buildStores, type AppStores, type StoreChoice } from './stores.js';
import { createAppLogger, type LogLevel } from './logger.js';

export interface OpenedEnricher {
  enricher: Enricher;
  stores: AppStores;
  logger: Logger;
  /** Closes the providers, then the stores. Safe to call twice. */
  close(): Promise<void>;
}

/** The logger every command uses: pino on stderr, readable lines when stderr is a terminal. */
export function commandLogger(level: LogLevel | undefined, fallback: LogLevel): Logger {
  return createAppLogger({ level: level ?? fallback, human: Boolean(process.stderr.isTTY) });
}

/**
 * Loads the providers named in the config and builds the engine over the chosen stores.
 * Relative plugin paths resolve against the config file's directory.
 */
export async function openEnricher(options: {
  config: AppConfig;
  configDir: string;
  stores: Omit<StoreChoice, 'logger'>;
  logger: Logger;
  onEvent?: (event: EnricherEvent) => void;
}): Promise<OpenedEnricher> {
  const stores = await buildStores(options.config, { ...options.stores, logger: options.logger });
  let enricher: Enricher;
  try {
    enricher = await createEnricherFromConfig(options.config, {
      importFrom: options.configDir,
      logger: options.logger,
      stores: { cache: stores.cache, rateLimit: stores.rateLimit, coalescing: stores.coalescing },
      onEvent: options.onEvent,
    });
  } catch (error) {
    await stores.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    enricher,
    stores,
    logger: options.logger,
    close() {
      closing ??= (async () => {
        await enricher.close().catch((error: unknown) => options.logger.warn({ err: error }, 'closing the providers failed'));
        await stores.close();
      })();
      return closing;
    },
  };
}
