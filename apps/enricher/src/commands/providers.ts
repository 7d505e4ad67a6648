import { formatDuration, type ProviderInfo } from '@x/core';
import { loadAppConfig } from '../app-config.js';
import { ExitCode } from '../exit-codes.js';
import type { LogLevel } from '../logger.js';
import { commandLogger, openEnricher } from '../open-enricher.js';
import { writeOut } from '../run-command.js';

function lifecycleCell(info: ProviderInfo): string {
  const { lifecycle } = info;
  if (lifecycle.status === 'active') return 'active';
  const since = lifecycle.status === 'end-of-life' ? lifecycle.endOfLife : lifecycle.deprecatedSince;
  return `${lifecycle.status.toUpperCase()}${since ? ` since ${since}` : ''}${lifecycle.replacedBy ? `, use ${lifecycle.replacedBy}` : ''}`;
}

function rateLimitCell(info: ProviderInfo): string {
  if (!info.rateLimit.length) return 'none';
  return info.rateLimit.map((window) => `${window.remaining}/${window.requests} per ${formatDuration(window.perMs)}`).join(', ');
}

/** The `providers` table: End-of-Life instances are marked with `!` and their replacement. */
export function formatProvidersTable(providers: readonly ProviderInfo[]): string {
  if (!providers.length) return 'No provider instances are configured (or all are disabled).\n';
  const header = ['NAME', 'PLUGIN', 'VERSION', 'TYPES', 'RATE LIMIT (left)', 'CIRCUIT', 'LIFECYCLE'];
  const rows = providers.map((info) => [
    `${info.lifecycle.status === 'active' ? ' ' : '!'} ${info.name}`,
    info.packageName,
    info.version,
    info.types.join(','),
    rateLimitCell(info),
    info.circuitState,
    lifecycleCell(info),
  ]);
  const widths = header.map((title, column) => Math.max(title.length + (column === 0 ? 2 : 0), ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const notes = providers
    .filter((info) => info.lifecycle.status !== 'active' && info.lifecycle.message)
    .map((info) => `! ${info.name}: ${info.lifecycle.message}`);
  return [line(['  ' + header[0], ...header.slice(1)]), ...rows.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n') + '\n';
}

export async function providersCommand(options: { config?: string; logLevel?: LogLevel; format: 'table' | 'json' }): Promise<ExitCode> {
  const { config, dir } = await loadAppConfig(options.config);
  // `error` by default: the lifecycle column already says what the load-time warning would.
  const logger = commandLogger(options.logLevel, 'error');
  // Listing an empty config is an answer ("No provider instances are configured"), not an error.
  const opened = await openEnricher({ config, configDir: dir, allowNoProviders: true, logger, stores: { mode: 'cli', noCache: true } });
  try {
    const providers = await opened.enricher.providers();
    await writeOut(options.format === 'json' ? JSON.stringify(providers, null, 2) + '\n' : formatProvidersTable(providers));
    return ExitCode.Ok;
  } finally {
    await opened.close();
  }
}
