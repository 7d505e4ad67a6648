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

/**
 * Text a spreadsheet (Excel, LibreOffice, Sheets) would run as a formula: the inputs come from
 * whoever wrote the alert or the feed, so `=cmd|' /C calc'!A0` in a CSV column must not execute
 * when an analyst opens the output (CSV injection, OWASP's list of leading characters).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell. Text starting like a formula gets a leading single quote, which spreadsheets
 * show as plain text (OWASP's advice); then RFC 4180 quoting: quote when the cell holds a comma,
 * quote, CR or LF, doubling the quotes. Numbers and booleans are data, never formulas, so a
 * negative number stays a number.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' && FORMULA_START.test(value) ? `'${value}` : String(value);
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
