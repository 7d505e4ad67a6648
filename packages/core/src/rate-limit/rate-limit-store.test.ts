import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileCacheStore } from '../cache/file-cache-store.js';
import { createMemoryCacheStore } from '../cache/memory-cache-store.js';
import { isXEnrichError } from '../contract/x-enrich-error.js';
import { captureLogger } from '../testing/capture.js';
import { runCacheStoreConformance, runRateLimitStoreConformance } from '../testing/store-conformance.js';
import { createFileRateLimitStore } from './file-rate-limit-store.js';
import { createMemoryRateLimitStore } from './memory-rate-limit-store.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'x-enrich-rl-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

runRateLimitStoreConformance({ name: 'memory', open: async () => ({ store: createMemoryRateLimitStore() }) });
runRateLimitStoreConformance({
  name: 'file',
  open: async () => {
    const dir = await tempDir();
    return { store: createFileRateLimitStore({ dir }), another: () => createFileRateLimitStore({ dir }) };
  },
});
runCacheStoreConformance({ name: 'memory', open: async () => ({ store: createMemoryCacheStore({ maxEntries: 10 }) }) });
runCacheStoreConformance({
  name: 'file',
  open: async () => {
    const dir = await tempDir();
    return { store: createFileCacheStore({ dir }), another: () => createFileCacheStore({ dir }) };
  },
});

const W = [{ requests: 2, perMs: 60_000 }];
const T = 1_700_000_000_000;

describe('file rate-limit store: bad state', () => {
  it('takes over a lock left by a SIGKILLed process at once, and leaves none behind', async () => {
    const dir = await tempDir();
    const store = createFileRateLimitStore({ dir });
    await store.tryAcquire('k', W, 1, T); // creates the file
    const [file] = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    // A real process takes the lock the way the store does, then is killed holding it.
    const lockFile = JSON.stringify(join(dir, `${file}.lock`));
    // Like the store: the owner is written first, then the lock appears (link), then the process dies holding it.
    const child = spawn(process.execPath, ['-e', `const fs = require('fs'); fs.writeFileSync(${lockFile} + '.draft', process.pid + ' ' + require('os').hostname() + ' x\\n'); fs.linkSync(${lockFile} + '.draft', ${lockFile}); fs.unlinkSync(${lockFile} + '.draft'); setInterval(() => {}, 1000)`], { stdio: 'ignore' });
    await waitFor(async () => (await readdir(dir)).some((name) => name.endsWith('.lock')) && !(await readdir(dir)).some((name) => name.endsWith('.draft')));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const logger = captureLogger();
    const recovering = createFileRateLimitStore({ dir, logger, lockTimeoutMs: 2_000 });
    expect((await recovering.tryAcquire('k', W, 1, T + 1)).granted).toBe(true);
    expect((await readdir(dir)).filter((name) => name.includes('.lock'))).toEqual([]);
    expect(logger.text()).toContain('X_WARN_RATE_LIMIT_STATE_RECOVERED');
    // The charge made before the crash still counts.
    expect(await recovering.peek('k', W, T + 2)).toEqual([0]);
  });

  it('fails with X_STORE_UNAVAILABLE, not a hang, when a live process keeps the lock', async () => {
    const dir = await tempDir();
    const store = createFileRateLimitStore({ dir, lockTimeoutMs: 100 });
    await store.tryAcquire('k', W, 1, T);
    const [file] = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    await writeFile(join(dir, `${file}.lock`), `${process.pid} ${(await import('node:os')).hostname()} held\n`);
    const error = await store.tryAcquire('k', W, 1, T).catch((e: unknown) => e);
    expect(isXEnrichError(error) && error.code).toBe('X_STORE_UNAVAILABLE');
  });

  it('moves a corrupt file aside with a logged warning and treats the shortest window as spent', async () => {
    const dir = await tempDir();
    const logger = captureLogger();
    const store = createFileRateLimitStore({ dir, logger });
    await store.tryAcquire('k', W, 1, T);
    const [file] = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    await writeFile(join(dir, file as string), '{"charges": [ broken');
    const attempt = await store.tryAcquire('k', W, 1, T + 10);
    expect(attempt).toMatchObject({ granted: false, retryAfterMs: 60_000 });
    expect(logger.text()).toContain('X_WARN_RATE_LIMIT_STATE_RECOVERED');
    expect((await readdir(dir)).some((name) => name.includes('.corrupt-'))).toBe(true);
    expect(JSON.parse(await readFile(join(dir, file as string), 'utf8'))).toMatchObject({ charges: [] });
    expect((await store.tryAcquire('k', W, 1, T + 60_010)).granted).toBe(true);
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition never met');
}
