import { styleText } from 'node:util';
import type { ResultRecord, Verdict } from '@x/core';
import type { EnrichedItem, OutputFormatter, RunFooter } from './enriched-item.js';
import { reasonText } from './reason-text.js';
import { plural } from './plural.js';
import { cellWidth, fitCells, middleCut, padCells } from '../terminal/cells.js';

export interface TableOptions {
  /** Colour verdicts (only when writing to a terminal). */
  color?: boolean;
  /**
   * Terminal width in cells (or a function read when the table is drawn, so a resized terminal
   * counts): long observables are shortened in the middle and REASON gets the rest. Unlimited
   * when omitted (`--wide`, a file, a pipe).
   */
  width?: number | (() => number | undefined);
}

const HEADERS = ['OBSERVABLE', 'TYPE', 'SUMMARY', 'PROVIDER', 'STATUS', 'VERDICT', 'CONF', 'CACHE', 'REASON'] as const;
const VERDICT_STYLE: Record<Verdict, Parameters<typeof styleText>[0]> = {
  malicious: ['red', 'bold'],
  suspicious: 'yellow',
  benign: 'green',
  unknown: 'gray',
};

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
    index === 0 ? summary.input : '',
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

/** The narrowest the OBSERVABLE column gets when the terminal is narrow: `0000000010…0000`. */
const MIN_OBSERVABLE = 15;
/** The narrowest REASON gets; below it, rows wrap rather than lose the reason entirely. */
const MIN_REASON = 12;
const GAP = 2;
const OBSERVABLE = 0;
const SUMMARY = 2;

function renderRows(rows: readonly string[][], options: TableOptions): string {
  // A column empty on every row says nothing (vt3 gives no confidence, no run hit the cache).
  // SUMMARY repeats VERDICT when every observable has one record (one provider): shown only when it adds something.
  const summaryAdds = rows.some((row, index) => index > 0 && !row[OBSERVABLE] && row[3]);
  const columns = HEADERS.map((_, column) => column).filter((column) => column === OBSERVABLE || (rows.some((row) => row[column]) && (column !== SUMMARY || summaryAdds)));
  const natural = columns.map((column) => Math.max(cellWidth(HEADERS[column]!), ...rows.map((row) => cellWidth(row[column] ?? ''))));
  const widths = [...natural];
  const width = typeof options.width === 'function' ? options.width() : options.width;
  const last = columns.length - 1;
  if (width && last > 0) {
    // One cell spare: a line filling the last column leaves the cursor pending a wrap.
    const available = width - 1;
    const others = widths.reduce((sum, cells, index) => (index === OBSERVABLE || index === last ? sum : sum + cells), 0) + GAP * last;
    const total = others + widths[OBSERVABLE]! + widths[last]!;
    if (total > available) {
      // Long hashes and URLs give way first (shortened in the middle), then REASON gets what is left.
      // They keep a third of the width up to 40 cells (an MD5 whole on a 120-column terminal), and
      // never less than 15 cells, enough to tell them apart.
      const floor = Math.min(natural[OBSERVABLE]!, Math.max(MIN_OBSERVABLE, Math.min(40, Math.floor(available / 3))));
      widths[OBSERVABLE] = Math.max(floor, Math.min(natural[OBSERVABLE]!, available - others - natural[last]!));
      // Too narrow for both: the observable gives way further (down to 15 cells) so REASON keeps a readable start.
      const reasonFloor = Math.min(natural[last]!, MIN_REASON);
      if (available - others - widths[OBSERVABLE]! < reasonFloor) widths[OBSERVABLE] = Math.max(Math.min(MIN_OBSERVABLE, natural[OBSERVABLE]!), available - others - reasonFloor);
      widths[last] = Math.max(reasonFloor, Math.min(natural[last]!, available - others - widths[OBSERVABLE]!));
    }
  }
  const verdictColumns = new Set([2, 5]);
  const line = (cells: readonly string[], header: boolean) =>
    columns
      .map((column, index) => {
        const cell = cells[column] ?? '';
        const cellsWide = widths[index] ?? 0;
        const fitted = index === OBSERVABLE ? middleCut(cell, cellsWide) : index === last ? fitCells(cell, cellsWide) : cell;
        const text = index === last ? fitted : padCells(fitted, cellsWide);
        if (!options.color) return text;
        if (header) return styleText('bold', text);
        if (verdictColumns.has(column) && cell in VERDICT_STYLE) return styleText(VERDICT_STYLE[cell as Verdict], text);
        return text;
      })
      .join(' '.repeat(GAP))
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
    `${plural(valid, 'observable', true)}: ${verdicts.malicious} malicious, ${verdicts.suspicious} suspicious, ${verdicts.benign} benign, ${verdicts.unknown} unknown; ` +
    `${plural(errors, 'failed lookup', true)}` +
    (invalid ? `; ${plural(invalid, 'invalid input', true)}` : '')
  );
}

/** The whole table for a finished run (pure). */
export function formatTable(items: readonly EnrichedItem[], footer: RunFooter, options: TableOptions = {}): string {
  // No lifecycle notice here: the End-of-Life warning is logged once, when the provider loads.
  const lines = [
    items.length ? renderRows(items.flatMap(tableRows), options).trimEnd() : 'No observables were enriched.',
    '',
    tally(items) + (footer.interrupted ? ' (interrupted)' : footer.complete === false ? ' (incomplete: the input could not be read to its end)' : ''),
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
