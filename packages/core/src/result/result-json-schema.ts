import * as z from 'zod';
import { zObservableSummary, zResultRecord } from '../contract/result-record.js';

/**
 * The JSON Schema (draft 2020-12) of one result record, generated from `zResultRecord` so the
 * two never drift (docs/reference/result-record.schema.json is this, checked by a test).
 * `summary` is defined under `$defs` for hosts that validate summaries too.
 */
export function resultRecordJsonSchema(): Record<string, unknown> {
  const record = z.toJSONSchema(zResultRecord, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  const summary = z.toJSONSchema(zObservableSummary, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  delete summary.$schema;
  return {
    $schema: record.$schema,
    $id: 'https://x-enrich.dev/schemas/result-record.schema.json',
    title: 'x-enrich result record',
    description: 'One record per observable x provider instance. See docs/reference/result-format.md.',
    ...Object.fromEntries(Object.entries(record).filter(([key]) => key !== '$schema')),
    $defs: { ...(record.$defs as object | undefined), ObservableSummary: summary },
  };
}
