import { describe, expect, it } from 'vitest';
import { defaultCacheDir, silentLogger } from '@x/core';
import { buildStores } from './stores.js';

// Core's openStores is the one path from config to stores (tested there); this holds the app's choice of defaults.
describe('stores for the app', () => {
  it('the CLI keeps a persistent file cache and file budgets by default; serve keeps memory', async () => {
    // noPrune: a test must not sweep the user's own cache.
    const cli = await buildStores({}, { mode: 'cli', noPrune: true, logger: silentLogger });
    expect(cli.cacheKind).toBe('file');
    expect(cli.description).toContain(`cache: file store in ${defaultCacheDir()}; rate limits: file store in`);
    await cli.close();
    const serve = await buildStores({}, { mode: 'serve', logger: silentLogger });
    expect(serve.description).toBe('cache: memory; rate limits: memory');
    await serve.close();
  });
});
