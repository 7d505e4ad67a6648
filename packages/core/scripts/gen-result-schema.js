/* global URL, console */
// Rewrites docs/reference/result-record.schema.json from the built zResultRecord
// (`pnpm --filter @x/core build && node scripts/gen-result-schema.js`). test/result-schema.test.ts checks it.
import { writeFile } from 'node:fs/promises';
import { resultRecordJsonSchema } from '../dist/result/result-json-schema.js';

const file = new URL('../../../docs/reference/result-record.schema.json', import.meta.url);
await writeFile(file, `${JSON.stringify(resultRecordJsonSchema(), null, 2)}\n`);
console.log('wrote docs/reference/result-record.schema.json');
