// (Node globals come from eslint.config.js.)
// Rewrites the generated sections of docs/providers/http.md from the built package
// (`pnpm --filter @x/provider-http gen:docs` builds first). test/docs.test.ts checks for drift.
import { readFile, writeFile } from 'node:fs/promises';
import { withGeneratedSections } from '../dist/docs.js';

const page = new URL('../../../docs/providers/http.md', import.meta.url);
await writeFile(page, withGeneratedSections(await readFile(page, 'utf8')));
console.log('wrote docs/providers/http.md');
