import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FILE_CACHE_PRUNE_INTERVAL_MS, FILE_CACHE_PRUNE_STAMP, pruneFileCacheIfDue } from '../cache/file-cache-prune.js';
import { createFileCacheStore, FILE_CACHE_TEMP_DIR } from '../cache/file-cache-store.js';
import { createMemoryCacheStore } from '../cache/memory-cache-store.js';
import { silentLogger } from '../contract/logger.js';
import { createMemoryRateLimitStore } from '../rate-limit/memory-rate-limit-store.js';
import { defaultCacheDir, openStores, type SharedStoreSettings } from './open-stores.js';
import type { SharedStores } from '../contract/shared-stores.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x-enrich-stores-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const memoryLimits = { store: 'memory' } as const;
const entry = { value: { kind: 'not_found' }, storedAt: 1, expiresAt: Date.now() + 60_000 };

/** Shared stores that count how often they were opened and closed. */
function fakeShared(): { open: (settings: SharedStoreSettings) => Promise<SharedStores>; opened: SharedStoreSettings[]; closed: number } {
  const state = { opened: [] as SharedStoreSettings[], closed: 0, open: async (settings: SharedStoreSettings): Promise<SharedStores> => {
    state.opened.push(settings);
    return {
      cache: createMemoryCacheStore({ maxEntries: 10 }),
      rateLimit: createMemoryRateLimitStore(),
      coalescing: { claim: async () => true, waitFor: async () => true, release: async () => undefined },
      stats: () => ({ status: 'ready', outages: 0, fallbackOperations: 0, refusedOperations: 0 }),
      close: async () => {
        state.closed += 1;
      },
    };
  } };
  return state;
}

describe('openStores', () => {
  it('persistent defaults: a file cache in the platform cache directory, budgets beside it', async () => {
    const stores = await openStores({}, { defaults: 'persistent', logger: silentLogger });
    expect(stores.description).toBe(`cache: file store in ${defaultCacheDir()}; rate limits: file store in ${join(defaultCacheDir(), 'rate-limits')}`);
    expect(stores.cacheKind).toBe('file');
    expect(defaultCacheDir()).toMatch(/x-enrich/);
    await stores.close();
  });

  it('writes to cacheDir whatever the config says, and resolves relative dirs from baseDir', async () => {
    const stores = await openStores({ cache: { store: 'memory', maxEntries: 10 }, rateLimitStore: memoryLimits }, { cacheDir: dir });
    expect(stores.cache).not.toBe(false);
    if (stores.cache) await stores.cache.set('k', entry);
    expect((await readdir(dir)).filter((name) => name.endsWith('.json'))).toHaveLength(1);
    await stores.close();
    const relative = await openStores({ cache: { store: 'file', dir: 'here' }, rateLimitStore: { store: 'file' } }, { baseDir: dir });
    expect(relative.description).toBe(`cache: file store in ${join(dir, 'here')}; rate limits: file store in ${join(dir, 'here', 'rate-limits')}`);
    await relative.close();
  });

  it('memory by default; noCache and cache: false turn caching off', async () => {
    expect((await openStores({ rateLimitStore: memoryLimits })).description).toBe('cache: memory; rate limits: memory');
    expect((await openStores({}, { defaults: 'persistent', noCache: true, prune: 'off' })).cache).toBe(false);
    expect((await openStores({ cache: false, rateLimitStore: memoryLimits }, { defaults: 'persistent' })).cacheKind).toBe('off');
  });

  it('opens one shared connection for both redis sections, names it without credentials, and closes it once', async () => {
    const shared = fakeShared();
    const redis = { store: 'redis', url: 'redis://:hunter2@cache:6379', keyPrefix: 'x:', onUnavailable: 'fallback' } as const;
    const stores = await openStores({ cache: redis, rateLimitStore: redis }, { openShared: shared.open });
    expect(shared.opened).toHaveLength(1);
    expect(stores.cacheKind).toBe('redis');
    expect(stores.coalescing).toBeDefined();
    expect(stores.description).not.toContain('hunter2');
    expect(stores.sharedStores()).toEqual([{ store: 'redis redis://:[REDACTED]@cache:6379 x:', stats: expect.objectContaining({ status: 'ready' }) }]);
    await Promise.all([stores.close(), stores.close()]);
    await stores.close();
    expect(shared.closed).toBe(1);
  });

  it('refuses a redis section without a way to open it, with the fix in the message', async () => {
    await expect(openStores({ cache: { store: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: 'x:', onUnavailable: 'fallback' } })).rejects.toMatchObject({
      code: 'X_CONFIG_INVALID',
      message: expect.stringMatching(/@x\/store-redis/),
    });
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
    expect(await pruneFileCacheIfDue(store, silentLogger, Date.now())).toBe(true);
    expect((await readdir(dir)).sort()).toEqual([FILE_CACHE_PRUNE_STAMP, expect.stringMatching(/\.json$/), FILE_CACHE_TEMP_DIR]);
    expect(await pruneFileCacheIfDue(store, silentLogger, Date.now())).toBe(false); // swept less than a day ago
    await expiredEntry();
    const stamp = join(dir, FILE_CACHE_PRUNE_STAMP);
    const dayAgo = new Date(Date.now() - FILE_CACHE_PRUNE_INTERVAL_MS - 1_000);
    await utimes(stamp, dayAgo, dayAgo);
    expect(await pruneFileCacheIfDue(store, silentLogger, Date.now())).toBe(true);
    expect((await readdir(dir)).filter((name) => name.endsWith('.json'))).toHaveLength(1);
    expect((await stat(stamp)).mtimeMs).toBeGreaterThan(dayAgo.getTime());

    const missing = join(dir, 'not-yet');
    expect(await pruneFileCacheIfDue(createFileCacheStore({ dir: missing }), silentLogger, Date.now())).toBe(false);
    await expect(stat(missing)).rejects.toThrow();
  });

  it('runs in the background after open and is done when the stores close', async () => {
    await expiredEntry();
    await writeFile(join(dir, 'keep.txt'), 'not a cache file');
    const stores = await openStores({ rateLimitStore: memoryLimits }, { defaults: 'persistent', cacheDir: dir, prune: 'daily' });
    await stores.close();
    expect((await readdir(dir)).sort()).toEqual([FILE_CACHE_PRUNE_STAMP, 'keep.txt', FILE_CACHE_TEMP_DIR]);
  });
});
