import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileCacheStore, silentLogger } from '@x/core';
import { buildStores, defaultCacheDir, FILE_CACHE_PRUNE_INTERVAL_MS, FILE_CACHE_PRUNE_STAMP, pruneFileCacheIfDue } from './stores.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x-enrich-stores-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const memoryLimits = { store: 'memory' } as const;
const entry = { value: { kind: 'not_found' }, storedAt: 1, expiresAt: Date.now() + 60_000 };

describe('stores', () => {
  it('gives the CLI a persistent file cache by default, in the user cache directory', async () => {
    // noPrune: a test must not sweep the user's own cache.
    const stores = await buildStores({ rateLimitStore: memoryLimits }, { mode: 'cli', noPrune: true, logger: silentLogger });
    expect(stores.description).toBe(`cache: file store in ${defaultCacheDir()}; rate limits: memory`);
    expect(stores.cacheKind).toBe('file');
    expect(defaultCacheDir()).toMatch(/x-enrich/);
    await stores.close();
  });

  it('writes to --cache-dir, whatever the config says', async () => {
    const stores = await buildStores({ cache: { store: 'memory', maxEntries: 10 }, rateLimitStore: memoryLimits }, { mode: 'serve', cacheDir: dir, logger: silentLogger });
    expect(stores.cache).not.toBe(false);
    if (stores.cache) await stores.cache.set('k', entry);
    expect((await readdir(dir)).filter((name) => name.endsWith('.json'))).toHaveLength(1);
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

describe('file cache pruning', () => {
  /** An entry written by an earlier run, expired an hour ago. */
  async function expiredEntry(): Promise<void> {
    const store = createFileCacheStore({ dir });
    const past = Date.now() - 3_600_000;
    await store.set('vt3:x:domain:old.example', { ...entry, storedAt: past - 1_000, expiresAt: past });
  }

  it('sweeps expired entries once a day, whichever process comes first, and never creates the directory', async () => {
    await expiredEntry();
    await createFileCacheStore({ dir }).set('vt3:x:domain:new.example', entry);
    const store = createFileCacheStore({ dir });
    expect(await pruneFileCacheIfDue(store, silentLogger)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual([FILE_CACHE_PRUNE_STAMP, expect.stringMatching(/\.json$/)].sort());
    expect(await pruneFileCacheIfDue(store, silentLogger)).toBe(false); // swept less than a day ago
    await expiredEntry();
    const stamp = join(dir, FILE_CACHE_PRUNE_STAMP);
    const dayAgo = new Date(Date.now() - FILE_CACHE_PRUNE_INTERVAL_MS - 1_000);
    await utimes(stamp, dayAgo, dayAgo);
    expect(await pruneFileCacheIfDue(store, silentLogger)).toBe(true);
    expect((await readdir(dir)).filter((name) => name.endsWith('.json'))).toHaveLength(1);
    expect((await stat(stamp)).mtimeMs).toBeGreaterThan(dayAgo.getTime());

    const missing = join(dir, 'not-yet');
    expect(await pruneFileCacheIfDue(createFileCacheStore({ dir: missing }), silentLogger)).toBe(false);
    await expect(stat(missing)).rejects.toThrow();
  });

  it('runs in the background of a CLI run and is done when the stores close', async () => {
    await expiredEntry();
    await writeFile(join(dir, 'keep.txt'), 'not a cache file');
    const stores = await buildStores({ rateLimitStore: memoryLimits }, { mode: 'cli', cacheDir: dir, logger: silentLogger });
    await stores.close();
    expect((await readdir(dir)).sort()).toEqual([FILE_CACHE_PRUNE_STAMP, 'keep.txt']);
  });
});
