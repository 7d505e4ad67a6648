import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { resultRecordJsonSchema } from './result-json-schema.js';

describe('docs/reference/result-record.schema.json', () => {
  it('matches zResultRecord', async () => {
    const file = await readFile(new URL('../../../../docs/reference/result-record.schema.json', import.meta.url), 'utf8');
    expect(JSON.parse(file), 'out of date: run `pnpm --filter @x/core build && node scripts/gen-result-schema.js` and commit it').toEqual(resultRecordJsonSchema());
  });

  it('describes every record field and allows a null observable', () => {
    const schema = resultRecordJsonSchema() as { properties: Record<string, { description?: string; anyOf?: unknown[] }>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['observable', 'input', 'provider', 'status', 'verdict', 'confidence', 'reasons', 'extracted', 'entities', 'error', 'cache', 'fetchedAt']));
    expect(schema.required).not.toContain('raw');
    expect(JSON.stringify(schema.properties.observable)).toContain('"type":"null"');
  });
});
