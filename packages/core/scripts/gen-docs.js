/* global URL, console */
// Rewrites the generated reference docs from core's built output (run `pnpm --filter @x/core gen:docs`,
// which builds first). The drift test in test/docs.test.ts compares the same renderers with the files.
import { writeFile } from 'node:fs/promises';
import { renderConfigReference } from '../dist/config/config-reference.js';
import { renderErrorsDoc } from '../dist/errors/errors-doc.js';

const docs = new URL('../../../docs/reference/', import.meta.url);
for (const [file, text] of [
  ['errors.md', renderErrorsDoc()],
  ['configuration.md', renderConfigReference()],
]) {
  await writeFile(new URL(file, docs), text);
  console.log(`wrote docs/reference/${file}`);
}
