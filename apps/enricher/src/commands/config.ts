import { stringify as toYaml } from 'yaml';
import { configSectionJsonSchema, REDACTED, createEnricher, redactConfig, type LoadedProvider } from '@x/core';
import { loadAppConfig, zAppConfig, type AppConfig } from '../app-config.js';
import { ExitCode } from '../exit-codes.js';
import type { LogLevel } from '../logger.js';
import { assertSomeProviderEnabled, commandLogger, loadAppProviders } from '../open-enricher.js';
import { writeOut } from '../run-command.js';

interface ConfigOptions {
  config?: string;
  logLevel?: LogLevel;
}

/** The config with every secret replaced: core's secrets (plugin options marked `secret`) and `server.token`. */
export function redactAppConfig(config: AppConfig, providers: readonly LoadedProvider[]): unknown {
  const redacted = redactConfig(config, providers) as Record<string, unknown>;
  const server = { ...config.server, ...(config.server.token ? { token: REDACTED } : {}) };
  return { ...redacted, server };
}

/**
 * Validates the file, imports every enabled plugin, validates its options, then registers each
 * instance exactly as `enrich` does (an engine over memory stores, closed at once), so a plugin
 * that cannot be constructed fails here too.
 */
export async function configValidateCommand(options: ConfigOptions): Promise<ExitCode> {
  const { path, config, dir } = await loadAppConfig(options.config);
  // A config `enrich` and `serve` would refuse is not valid.
  assertSomeProviderEnabled(config, path);
  const logger = commandLogger(options.logLevel, 'warn');
  const providers = await loadAppProviders(config, dir, logger);
  await createEnricher({ providers, cacheStore: false, logger }).close();
  const names = providers.map((provider) => `${provider.name} (${provider.manifest.packageName} ${provider.manifest.version})`);
  await writeOut(`${path}: valid; ${providers.length} provider instance${providers.length === 1 ? '' : 's'}${names.length ? `: ${names.join(', ')}` : ''}\n`);
  return ExitCode.Ok;
}

/** Prints the effective config (defaults applied, `${VAR}` substituted, durations in ms) with secrets redacted. */
export async function configShowCommand(options: ConfigOptions & { format: 'yaml' | 'json' }): Promise<ExitCode> {
  const { config, dir } = await loadAppConfig(options.config);
  const logger = commandLogger(options.logLevel, 'error');
  const providers = await loadAppProviders(config, dir, logger);
  const shown = redactAppConfig(config, providers);
  await writeOut(options.format === 'json' ? JSON.stringify(shown, null, 2) + '\n' : toYaml(shown));
  return ExitCode.Ok;
}

/** The JSON Schema of the whole file (core's sections and the app's `server`), for editor completion. */
export function appConfigJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://x-enrich.dev/schema/x-enrich.config.json',
    title: 'x-enrich configuration',
    ...configSectionJsonSchema(zAppConfig),
  };
}

export async function configSchemaCommand(): Promise<ExitCode> {
  await writeOut(JSON.stringify(appConfigJsonSchema(), null, 2) + '\n');
  return ExitCode.Ok;
}
