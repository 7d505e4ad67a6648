import { fileURLToPath } from 'node:url';
import { isValidationError, loadProviders, parseConfig } from '@x/core';
import { describe, expect, it } from 'vitest';

// `use: ./` is this package's directory, resolved through its package.json `exports` the way a
// host resolves a local plugin; the `@x/source` condition loads the TypeScript sources (no build).
const importFrom = fileURLToPath(new URL('..', import.meta.url));
const conditions = ['@x/source', 'import', 'node', 'default'];

describe('loading through core', () => {
  it('loads the plugin from config, with defaults applied', async () => {
    const config = parseConfig({ providers: { vt: { use: './', options: { apiKey: '${VT_KEY}' } } } }, { env: { VT_KEY: 'loader-key-123' } });
    const [loaded] = await loadProviders(config, { importFrom, conditions });
    expect(loaded).toMatchObject({ name: 'vt', manifest: { id: 'virustotal-v3' }, options: { apiKey: 'loader-key-123', requestTimeout: 15_000 } });
  });

  it('reports invalid rules at their config path without echoing the key', async () => {
    const config = parseConfig({
      providers: { vt: { use: './', options: { apiKey: 'loader-key-456', maliceRules: [{ verdict: 'malicious', all: [{ field: 'country', op: '>', value: 'RU' }] }] } } },
    });
    const error = await loadProviders(config, { importFrom, conditions }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isValidationError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('providers.vt.options.maliceRules.0.all.0.op');
    expect(message).toContain('operator ">" does not apply to country');
    expect(message).not.toContain('loader-key-456');
  });
});
