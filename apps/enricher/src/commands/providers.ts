import { formatDuration, type ProviderInfo, type TraceStep } from '@x/core';
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

/**
 * `providers test <instance> <observable>`: one traced lookup (no cache, nothing cached), for
 * someone writing or checking a provider's config. Each step the provider reports is printed as
 * it happens, then the record. Exit 0 when the lookup ended ok, not_found or pending, 2 otherwise.
 */
export async function providersTestCommand(
  instance: string,
  observable: string,
  options: { config?: string; logLevel?: LogLevel; format: 'text' | 'json' },
): Promise<ExitCode> {
  const { config, dir, path } = await loadAppConfig(options.config);
  const logger = commandLogger(options.logLevel, 'warn');
  const opened = await openEnricher({ config, configDir: dir, configPath: path, logger, stores: { mode: 'cli', noCache: true } });
  try {
    const steps: TraceStep[] = [];
    const trace = (step: TraceStep): void => {
      steps.push(step);
      if (options.format === 'text') process.stdout.write(formatStep(step));
    };
    const { records } = await opened.enricher.enrich([observable], { providers: [instance], trace, includeRaw: false });
    const record = records[0]!;
    if (options.format === 'json') await writeOut(JSON.stringify({ steps, record }, null, 2) + '\n');
    else {
      if (steps.length === 0) await writeOut('(this provider reports no steps; the record follows)\n');
      await writeOut(`\nrecord:\n${JSON.stringify(record, null, 2)}\n`);
    }
    return record.status === 'error' || record.status === 'skipped' ? ExitCode.SomeFailed : ExitCode.Ok;
  } finally {
    await opened.close();
  }
}

function formatStep(step: TraceStep): string {
  const label = step.kind.padEnd(8);
  if (step.kind === 'response' && step.detail && 'body' in step.detail) {
    const body = JSON.stringify(step.detail.body, null, 2) ?? '';
    const lines = body.split('\n');
    const shown = lines.length > 40 ? [...lines.slice(0, 40), `… (${lines.length - 40} more lines)`] : lines;
    return `${label} ${step.summary}\n${shown.map((line) => `         ${line}`).join('\n')}\n`;
  }
  if (step.kind === 'request' && step.detail) {
    const { query, headers, body } = step.detail as { query?: unknown; headers?: string[]; body?: unknown };
    const extra = [query ? `query ${JSON.stringify(query)}` : '', headers?.length ? `headers ${headers.join(', ')}` : '', body ? `body ${JSON.stringify(body)}` : ''].filter(Boolean);
    return `${label} ${step.summary}${extra.length ? `\n         ${extra.join('; ')}` : ''}\n`;
  }
  return `${label} ${step.summary}\n`;
}
