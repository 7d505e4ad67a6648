import {
  collectSecrets,
  createEnricher,
  createRedactingLogger,
  loadProviders,
  type Enricher,
  type EnricherEvent,
  type LoadedProvider,
  type Logger,
  XEnrichError,
} from '@x/core';
import type { AppConfig } from './app-config.js';
import { APP_DIR } from './app-dir.js';
import { BUNDLED, bundledPluginFile, shareCoreWithPlugins } from './bundled-plugins.js';
import { buildStores, type AppStores, type StoreChoice } from './stores.js';
import { createAppLogger, type LogLevel } from './logger.js';

export interface OpenedEnricher {
  enricher: Enricher;
  providers: readonly LoadedProvider[];
  stores: AppStores;
  /** The logger with every provider secret redacted. */
  logger: Logger;
  /** Closes the providers, then the stores. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The logger every command uses: pino on stderr, readable lines when stderr is a terminal.
 * `bufferMs` (serve): JSON lines off a terminal are written in batches at most that far apart.
 */
export function commandLogger(level: LogLevel | undefined, fallback: LogLevel, options: { bufferMs?: number } = {}): Logger {
  return createAppLogger({ level: level ?? fallback, human: Boolean(process.stderr.isTTY), bufferMs: options.bufferMs });
}

/**
 * Fails when the config has no enabled provider instance: a run would look nothing up and
 * report success (`--fail-on` never reached, exit 0) and a service would answer every request
 * with nothing, which hides a broken config instead of reporting it.
 */
export function assertSomeProviderEnabled(config: Pick<AppConfig, 'providers'>, configPath?: string): void {
  if (Object.values(config.providers).some((instance) => instance.enabled)) return;
  throw new XEnrichError(
    'X_CONFIG_INVALID',
    `No provider instances are configured (or all are disabled)${configPath ? ` in ${configPath}` : ''}, so nothing would be looked up. ` +
      'Add one under `providers` (examples/x-enrich.simulator.yaml shows how) or set `enabled: true` on one; `x-enrich demo` runs without a config.',
  );
}

/** Imports, validates and prepares every enabled provider instance (all problems at once). */
export async function loadAppProviders(config: AppConfig, configDir: string, logger: Logger): Promise<LoadedProvider[]> {
  // The loader reads only `providers`, `quotas` and `allowEndOfLife`; the app's optional stores do not concern it.
  const forLoader = { ...config, cache: config.cache ?? false, rateLimitStore: config.rateLimitStore ?? { store: 'memory' as const } };
  // Package names resolve from the config file's directory first (a user's own plugins), then
  // from the app's (the plugins x-enrich ships with), so `use: "@x/provider-virustotal-v3"`
  // works from any directory. Paths stay relative to the config file.
  // The bundled CLI loads the plugins it ships from the bundle, and gives any other plugin the
  // bundle's core (see bundled-plugins.ts); the loader sees the bundled file as a path.
  const shipped = new Map<string, string>();
  let outside = false;
  const providers: AppConfig['providers'] = {};
  for (const [name, instance] of Object.entries(config.providers)) {
    const file = instance.enabled ? bundledPluginFile(instance.use, configDir) : undefined;
    if (file !== undefined) shipped.set(name, instance.use);
    else if (instance.enabled) outside = true;
    providers[name] = file === undefined ? instance : { ...instance, use: file };
  }
  if (outside) shareCoreWithPlugins();
  const loaded = await loadProviders({ ...forLoader, providers }, { importFrom: configDir, fallbackImportFrom: [APP_DIR], logger, allowEndOfLife: config.allowEndOfLife });
  return loaded.map((provider) => {
    const use = shipped.get(provider.name);
    if (use !== undefined) return { ...provider, config: { ...provider.config, use }, source: provider.source && { entry: provider.source.entry } };
    // Its own node_modules may hold another @x/core, but its imports get the bundle's (core-hooks.ts).
    if (BUNDLED && provider.source?.ownCore !== undefined) return { ...provider, source: { entry: provider.source.entry } };
    return provider;
  });
}

/**
 * Loads the providers named in the config and builds the engine over the chosen stores.
 * Relative plugin paths resolve against the config file's directory.
 */
export async function openEnricher(options: {
  config: AppConfig;
  configDir: string;
  /** Named in the error when no provider is enabled. */
  configPath?: string;
  /** Only `providers`, which lists what is configured, may open an engine without any. */
  allowNoProviders?: boolean;
  stores: Omit<StoreChoice, 'logger'>;
  logger: Logger;
  onEvent?: (event: EnricherEvent) => void;
}): Promise<OpenedEnricher> {
  // Before any plugin is imported or store connected: there is nothing to open.
  if (!options.allowNoProviders) assertSomeProviderEnabled(options.config, options.configPath);
  const providers = await loadAppProviders(options.config, options.configDir, options.logger);
  const secrets = collectSecrets(providers);
  const logger = createRedactingLogger(options.logger, secrets);
  const stores = await buildStores(options.config, { ...options.stores, logger });
  let enricher: Enricher;
  try {
    enricher = createEnricher({
      providers,
      cacheStore: stores.cache,
      rateLimitStore: stores.rateLimit,
      coalescingStore: stores.coalescing,
      logger,
      secrets,
      concurrency: options.config.concurrency,
      lookupPrivateAddresses: options.config.lookupPrivateAddresses,
      onEvent: options.onEvent,
    });
  } catch (error) {
    await stores.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    enricher,
    providers,
    stores,
    logger,
    close() {
      closing ??= (async () => {
        await enricher.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the providers failed'));
        await stores.close();
      })();
      return closing;
    },
  };
}
