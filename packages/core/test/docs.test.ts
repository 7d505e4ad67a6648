import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../src/config/config-reference.js';
import { ERROR_CODES } from '../src/contract/error-codes.js';
import { renderErrorsDoc } from '../src/errors/errors-doc.js';

const docs = new URL('../../../docs/reference/', import.meta.url);
const FIX = 'out of date: run `pnpm --filter @x/core gen:docs` and commit the result';

describe('generated reference docs', () => {
  it('docs/reference/errors.md matches ERROR_CODES', async () => {
    const file = await readFile(new URL('errors.md', docs), 'utf8');
    expect(file, `docs/reference/errors.md is ${FIX}`).toBe(renderErrorsDoc());
    for (const code of Object.keys(ERROR_CODES)) expect(file).toContain(`| \`${code}\` |`);
  });

  it('docs/reference/configuration.md matches zEnricherConfig', async () => {
    const file = await readFile(new URL('configuration.md', docs), 'utf8');
    expect(file, `docs/reference/configuration.md is ${FIX}`).toBe(renderConfigReference());
    expect(file).toContain('| `providers.<name>.rateLimit[].per` | duration | **required** |');
    expect(file).toContain('| `providers.<name>.resilience.timeout` | duration | `10s` |');
  });
});
