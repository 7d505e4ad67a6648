import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '@x/core';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('.', import.meta.url));
// Names shaped like codes that are not error codes: an environment variable and a prefix.
const NOT_CODES = new Set(['X_ENRICH_TOKEN', 'X_ENRICH_LOG_LEVEL', 'X_WARN_']);

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')).map((entry) => join(entry.parentPath, entry.name));
}

describe('error codes of the app', () => {
  it('every code the CLI, the service and the MCP server use is in core\'s one table (docs/reference/errors.md)', async () => {
    const used = new Set<string>();
    for (const file of await sources(SRC)) {
      for (const match of (await readFile(file, 'utf8')).matchAll(/'(X_[A-Z_]+)'/g)) if (!NOT_CODES.has(match[1]!)) used.add(match[1]!);
    }
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((code) => !Object.hasOwn(ERROR_CODES, code))).toEqual([]);
  });
});
