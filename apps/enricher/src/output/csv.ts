import type { ResultRecord } from '@x/core';
import type { OutputFormatter } from './enriched-item.js';
import { reasonText } from './reason-text.js';

/** Columns of `--format csv`, in order. One row per result record. */
export const CSV_COLUMNS = [
  'input',
  'type',
  'value',
  'provider',
  'plugin',
  'status',
  'verdict',
  'confidence',
  'reasons',
  'error_code',
  'error_message',
  'cache_hit',
  'fetched_at',
  'lifecycle',
] as const;

/** RFC 4180 quoting: quote when the cell holds a comma, quote, CR or LF; double the quotes. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(record: ResultRecord): string {
  const cells = [
    record.input,
    record.observable?.type,
    record.observable?.value,
    record.provider.name,
    record.provider.plugin,
    record.status,
    record.verdict,
    record.confidence,
    reasonText(record),
    record.error?.code,
    record.error?.message,
    record.cache.hit,
    record.fetchedAt,
    record.provider.lifecycle?.status,
  ];
  return cells.map(csvCell).join(',') + '\r\n';
}

export function formatCsv(records: readonly ResultRecord[]): string {
  return CSV_COLUMNS.join(',') + '\r\n' + records.map(csvRow).join('');
}

export function createCsvFormatter(): OutputFormatter {
  return {
    start: () => CSV_COLUMNS.join(',') + '\r\n',
    item: (item) => item.records.map(csvRow).join(''),
    end: () => '',
  };
}
