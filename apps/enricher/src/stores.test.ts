import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@x/core';
import { buildStores, defaultCacheDir } from './stores.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x-enrich-stores-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const memoryLimits = { store: 'memory' } as const;
const entry = { value: { kind: 'not_found' }, storedAt: 1, expiresAt: Date.now() + 60_000 };

describe('stores', () => {
  it('gives the CLI a persistent file cache by default, in the user cache directory', async () => {
    const stores = await buildStores({ rateLimitStore: memoryLimits }, { mode: 'cli', logger: silentLogger });
    expect(stores.description).toBe(`cache: file store in ${defaultCacheDir()}; rate limits: memory`);
    expect(defaultCacheDir()).toMatch(/x-enrich/);
    await stores.close();
  });

  it('writes to --cache-dir, whatever the config says', async () => {
    const stores = await buildStores({ cache: { store: 'memory', maxEntries: 10 }, rateLimitStore: memoryLimits }, { mode: 'serve', cacheDir: dir, logger: silentLogger });
    expect(stores.cache).not.toBe(false);
    if (stores.cache) await stores.cache.set('k', entry);
    expect((await readdir(dir)).length).toBe(1);
    await stores.close();
  });

  it('gives serve a memory cache unless configured, and --no-cache turns caching off', async () => {
    expect((await buildStores({ rateLimitStore: memoryLimits }, { mode: 'serve', logger: silentLogger })).description).toBe('cache: memory; rate limits: memory');
    expect((await buildStores({ rateLimitStore: memoryLimits }, { mode: 'cli', noCache: true, logger: silentLogger })).cache).toBe(false);
    expect((await buildStores({ cache: false, rateLimitStore: memoryLimits }, { mode: 'cli', logger: silentLogger })).cache).toBe(false);
  });

  it('uses the configured file directory', async () => {
    const stores = await buildStores({ cache: { store: 'file', dir, maxEntries: 10 }, rateLimitStore: memoryLimits }, { mode: 'serve', logger: silentLogger });
    expect(stores.description).toBe(`cache: file store in ${dir}; rate limits: memory`);
  });
});
