import type { OutputFormatter } from './enriched-item.js';
import type { TableOptions } from './table.js';

import { OUTPUT_FORMATS } from '../choices.js';

export { OUTPUT_FORMATS };
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function isOutputFormat(value: string): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value);
}

/**
 * The formatter for `--format`; `table` options apply only to the table. Each format's module
 * is imported when asked for, so a jsonl run does not load the STIX code (and uuid) or the table.
 */
export async function createFormatter(format: OutputFormat, table: TableOptions = {}): Promise<OutputFormatter> {
  switch (format) {
    case 'table':
      return (await import('./table.js')).createTableFormatter(table);
    case 'json':
      return (await import('./json.js')).createJsonFormatter();
    case 'jsonl':
      return (await import('./jsonl.js')).createJsonlFormatter();
    case 'csv':
      return (await import('./csv.js')).createCsvFormatter();
    case 'stix':
      return (await import('./stix.js')).createStixFormatter();
  }
}

export type { EnrichedItem, OutputFormatter, RunFooter } from './enriched-item.js';
