import type { ObservableSummary, ResultRecord } from '@x/core';
import type { OutputFormatter, RunFooter } from './enriched-item.js';

/** The `--format json` document. */
export interface JsonDocument {
  records: ResultRecord[];
  summaries: ObservableSummary[];
  interrupted: boolean;
  /** False whenever not every input was processed (interrupted, or the input could not be read to its end). */
  complete: boolean;
  invalidInputs: number;
}

/** The whole document at once (for tests and small runs). */
export function formatJson(doc: JsonDocument): string {
  return JSON.stringify(doc, null, 2) + '\n';
}

/**
 * Streams `{"records":[...],"summaries":[...],"interrupted":false,"complete":true,"invalidInputs":0}`: records are
 * written as they come, summaries (one small object per input) are kept until the end.
 */
export function createJsonFormatter(): OutputFormatter {
  const summaries: ObservableSummary[] = [];
  let first = true;
  return {
    start: () => '{\n"records": [\n',
    item(item) {
      summaries.push(item.summary);
      let text = '';
      for (const record of item.records) {
        text += (first ? '' : ',\n') + JSON.stringify(record);
        first = false;
      }
      return text;
    },
    end(footer: RunFooter) {
      return (
        (first ? '' : '\n') +
        '],\n"summaries": [\n' +
        summaries.map((summary) => JSON.stringify(summary)).join(',\n') +
        (summaries.length ? '\n' : '') +
        `],\n"interrupted": ${footer.interrupted},\n"complete": ${footer.complete},\n"invalidInputs": ${footer.invalidInputs}\n}\n`
      );
    },
  };
}
