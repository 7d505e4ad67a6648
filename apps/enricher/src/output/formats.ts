import type { OutputFormatter } from './enriched-item.js';
import { createCsvFormatter } from './csv.js';
import { createJsonFormatter } from './json.js';
import { createJsonlFormatter } from './jsonl.js';
import { createStixFormatter } from './stix.js';
import { createTableFormatter, type TableOptions } from './table.js';

import { OUTPUT_FORMATS } from '../choices.js';

export { OUTPUT_FORMATS };
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function isOutputFormat(value: string): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value);
}

/** The formatter for `--format`; `table` options apply only to the table. */
export function createFormatter(format: OutputFormat, table: TableOptions = {}): OutputFormatter {
  switch (format) {
    case 'table':
      return createTableFormatter(table);
    case 'json':
      return createJsonFormatter();
    case 'jsonl':
      return createJsonlFormatter();
    case 'csv':
      return createCsvFormatter();
    case 'stix':
      return createStixFormatter();
  }
}

export type { EnrichedItem, OutputFormatter, RunFooter } from './enriched-item.js';
