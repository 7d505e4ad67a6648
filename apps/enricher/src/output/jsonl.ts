import type { ResultRecord } from '@x/core';
import type { OutputFormatter } from './enriched-item.js';

/** One result record per line (JSON Lines). Every line is complete, so a cut-off run is still valid. */
export function formatJsonl(records: readonly ResultRecord[]): string {
  let text = '';
  for (const record of records) text += JSON.stringify(record) + '\n';
  return text;
}

export function createJsonlFormatter(): OutputFormatter {
  return { start: () => '', item: (item) => formatJsonl(item.records), end: () => '' };
}
