import { styleText } from 'node:util';
import type { Lifecycle, ResultRecord, Verdict } from '@x/core';
import type { EnrichedItem, OutputFormatter, RunFooter } from './enriched-item.js';
import { reasonText } from './reason-text.js';

export interface TableOptions {
  /** Colour verdicts (only when writing to a terminal). */
  color?: boolean;
  /** Terminal width; the REASON column is cut to fit. Unlimited when omitted. */
  width?: number;
}

const HEADERS = ['OBSERVABLE', 'TYPE', 'SUMMARY', 'PROVIDER', 'STATUS', 'VERDICT', 'CONF', 'CACHE', 'REASON'] as const;
const MAX_OBSERVABLE = 64;
const VERDICT_STYLE: Record<Verdict, Parameters<typeof styleText>[0]> = {
  malicious: ['red', 'bold'],
  suspicious: 'yellow',
  benign: 'green',
  unknown: 'gray',
};

function cut(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, Math.max(0, max - 1)) + '…';
}

function age(seconds: number | null): string {
  if (seconds === null) return 'hit';
  if (seconds < 60) return `hit ${Math.round(seconds)}s`;
  if (seconds < 3600) return `hit ${Math.round(seconds / 60)}m`;
  if (seconds < 86_400) return `hit ${Math.round(seconds / 3600)}h`;
  return `hit ${Math.round(seconds / 86_400)}d`;
}

/** The REASON cell: why the verdict, or why there is none. */
function reasonCell(record: ResultRecord): string {
  if (record.error) return `${record.error.code}: ${record.error.message}`;
  const reasons = reasonText(record);
  if (record.status === 'ok' || reasons) return reasons;
  return '';
}

/** The cells of every row for one input: the first row carries the observable and its summary. */
export function tableRows(item: EnrichedItem): string[][] {
  const { summary } = item;
  return item.records.map((record, index) => [
    index === 0 ? cut(summary.input, MAX_OBSERVABLE) : '',
    index === 0 ? (summary.observable?.type ?? 'invalid') : '',
    index === 0 ? summary.verdict : '',
    record.provider.name,
    record.status,
    record.verdict,
    record.confidence ?? '',
    record.cache.hit ? age(record.cache.ageSeconds) : '',
    reasonCell(record),
  ]);
}

/** Lifecycle notices for the providers seen in the records (End-of-Life ones first). */
export function lifecycleNotices(providers: ReadonlyMap<string, Lifecycle>): string[] {
  const notices: string[] = [];
  for (const [name, lifecycle] of [...providers].sort(([, a], [, b]) => (a.status === b.status ? 0 : a.status === 'end-of-life' ? -1 : 1))) {
    if (lifecycle.status === 'active') continue;
    const since = lifecycle.status === 'end-of-life' ? lifecycle.endOfLife : lifecycle.deprecatedSince;
    const parts = [`${name} is ${lifecycle.status}${since ? ` since ${since}` : ''}.`];
    if (lifecycle.message) parts.push(lifecycle.message);
    if (lifecycle.replacedBy) parts.push(`Replaced by ${lifecycle.replacedBy}.`);
    if (lifecycle.url) parts.push(lifecycle.url);
    notices.push(`! ${parts.join(' ')}`);
  }
  return notices;
}

function renderRows(rows: readonly string[][], options: TableOptions): string {
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  // Cut the last column (REASON) so a row fits the terminal instead of wrapping.
  if (options.width) {
    const fixed = widths.slice(0, -1).reduce((sum, width) => sum + width + 2, 0);
    widths[widths.length - 1] = Math.max(12, Math.min(widths.at(-1) ?? 0, options.width - fixed));
  }
  const verdictColumns = new Set([2, 5]);
  const line = (cells: readonly string[], header: boolean) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        const text = column === cells.length - 1 ? cut(cell, width) : cell.padEnd(width);
        if (!options.color) return text;
        if (header) return styleText('bold', text);
        if (verdictColumns.has(column) && cell in VERDICT_STYLE) return styleText(VERDICT_STYLE[cell as Verdict], text);
        return text;
      })
      .join('  ')
      .trimEnd();
  return [line(HEADERS, true), ...rows.map((row) => line(row, false))].join('\n') + '\n';
}

/** Counts for the line under the table. */
function tally(items: readonly EnrichedItem[]): string {
  const verdicts: Record<Verdict, number> = { malicious: 0, suspicious: 0, benign: 0, unknown: 0 };
  let errors = 0;
  let invalid = 0;
  for (const item of items) {
    if (!item.summary.observable) {
      invalid += 1;
      continue;
    }
    verdicts[item.summary.verdict] += 1;
    errors += item.records.filter((record) => record.status === 'error').length;
  }
  const valid = items.length - invalid;
  return (
    `${valid} observable${valid === 1 ? '' : 's'}: ${verdicts.malicious} malicious, ${verdicts.suspicious} suspicious, ${verdicts.benign} benign, ${verdicts.unknown} unknown; ` +
    `${errors} failed lookup${errors === 1 ? '' : 's'}` +
    (invalid ? `; ${invalid} invalid input${invalid === 1 ? '' : 's'}` : '')
  );
}

/** The whole table for a finished run (pure). */
export function formatTable(items: readonly EnrichedItem[], footer: RunFooter, options: TableOptions = {}): string {
  const lifecycles = new Map<string, Lifecycle>();
  for (const item of items) for (const record of item.records) if (record.provider.lifecycle) lifecycles.set(record.provider.name, record.provider.lifecycle);
  const lines = [
    items.length ? renderRows(items.flatMap(tableRows), options).trimEnd() : 'No observables were enriched.',
    '',
    tally(items) + (footer.interrupted ? ' (interrupted)' : footer.complete === false ? ' (incomplete: the input could not be read to its end)' : ''),
    ...lifecycleNotices(lifecycles),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The table needs every row to size its columns, so it is printed at the end (also on Ctrl-C).
 * Use jsonl for long unattended runs.
 */
export function createTableFormatter(options: TableOptions = {}): OutputFormatter {
  const items: EnrichedItem[] = [];
  return {
    start: () => '',
    item(item) {
      items.push(item);
      return '';
    },
    end: (footer) => formatTable(items, footer, options),
  };
}
