import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson, optionsFingerprint } from './cache-key.js';
import { createFileCacheStore, FILE_CACHE_MEMORY_BYTES, FILE_CACHE_TEMP_DIR } from './file-cache-store.js';
import { createMemoryCacheStore } from './memory-cache-store.js';
import { systemClock } from '../contract/tokens.js';

let now = 1_000;
const clock = { now: () => now, sleep: systemClock.sleep };
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'x-enrich-cache-'));
  dirs.push(dir);
  return dir;
}
/** The temporary files in the writers' subdirectory. */
const tempsIn = async (dir: string): Promise<string[]> => (await readdir(join(dir, FILE_CACHE_TEMP_DIR))).sort();
afterEach(async () => {
  now = 1_000;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('cache key', () => {
  it('is stable whatever the key order of the options', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":1,"f":2}]},"b":1}');
    expect(optionsFingerprint({ apiKey: 'k', threshold: 5 })).toBe(optionsFingerprint({ threshold: 5, apiKey: 'k' }));
  });

  it('changes with any option, and never contains the secret', () => {
    const secretKey = 'sk-very-secret-0123456789';
    const a = optionsFingerprint({ apiKey: secretKey, threshold: 5 });
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(optionsFingerprint({ apiKey: 'other', threshold: 5 })).not.toBe(a);
    expect(optionsFingerprint({ apiKey: secretKey, threshold: 6 })).not.toBe(a);
    const key = cacheKey('vt3', a, { type: 'domain', value: 'example.org' });
    expect(key).toBe(`vt3:${a}:domain:example.org`);
    expect(key).not.toContain(secretKey);
  });
});

describe.each([
  ['memory', async () => createMemoryCacheStore({ maxEntries: 10, clock })],
  ['file', async () => createFileCacheStore({ dir: await tempDir(), maxEntries: 10, clock })],
])('%s cache store', (_name, make) => {
  it('stores, returns and deletes entries', async () => {
    const store = await make();
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', { value: { verdict: 'benign' }, storedAt: 1_000, expiresAt: 2_000 });
    expect(await store.get('k')).toEqual({ value: { verdict: 'benign' }, storedAt: 1_000, expiresAt: 2_000 });
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
  });

  it('drops entries once expired', async () => {
    const store = await make();
    await store.set('k', { value: 1, storedAt: 1_000, expiresAt: 2_000 });
    now = 1_999;
    expect(await store.get('k')).toBeDefined();
    now = 2_000;
    expect(await store.get('k')).toBeUndefined();
  });

  it('clears everything', async () => {
    const store = await make();
    await store.set('a', { value: 1, storedAt: 0, expiresAt: 5_000 });
    await store.set('b', { value: 2, storedAt: 0, expiresAt: 5_000 });
    await store.clear();
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('b')).toBeUndefined();
  });
});

describe('file cache store', () => {
  it('persists across instances (a second CLI run)', async () => {
    const dir = await tempDir();
    await createFileCacheStore({ dir, clock }).set('vt3:abc:domain:example.org', { value: { kind: 'found' }, storedAt: 1_000, expiresAt: 9_000 });
    const second = createFileCacheStore({ dir, clock });
    expect(await second.get('vt3:abc:domain:example.org')).toEqual({ value: { kind: 'found' }, storedAt: 1_000, expiresAt: 9_000 });
    // The entry, and the writers' subdirectory, empty once the write is done.
    const files = (await readdir(dir)).sort();
    expect(files).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.json$/), FILE_CACHE_TEMP_DIR]);
    expect(await tempsIn(dir)).toEqual([]);
  });

  it.skipIf(process.platform === 'win32')('keeps the directories and their files private to the user (0700, 0600)', async () => {
    const dir = join(await tempDir(), 'private');
    await createFileCacheStore({ dir, clock }).set('k', { value: 1, storedAt: 1_000, expiresAt: 9_000 });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, FILE_CACHE_TEMP_DIR))).mode & 0o777).toBe(0o700);
    const [file] = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    expect((await stat(join(dir, file as string))).mode & 0o777).toBe(0o600);
  });

  it('writes again after its temporary directory was removed behind its back', async () => {
    const dir = await tempDir();
    const store = createFileCacheStore({ dir, clock });
    await store.set('a', { value: 1, storedAt: 1_000, expiresAt: 9_000 });
    await rm(join(dir, FILE_CACHE_TEMP_DIR), { recursive: true });
    await store.set('b', { value: 2, storedAt: 1_000, expiresAt: 9_000 });
    expect(await createFileCacheStore({ dir, clock }).get('b')).toMatchObject({ value: 2 });
    expect(await tempsIn(dir)).toEqual([]);
  });

  it('removes expired files when read', async () => {
    const dir = await tempDir();
    await createFileCacheStore({ dir, clock }).set('k', { value: 1, storedAt: 1_000, expiresAt: 2_000 });
    now = 3_000;
    expect(await createFileCacheStore({ dir, clock }).get('k')).toBeUndefined();
    expect(await readdir(dir)).toEqual([FILE_CACHE_TEMP_DIR]);
  });

  it('ignores and removes corrupt files', async () => {
    const dir = await tempDir();
    const store = createFileCacheStore({ dir, clock });
    await store.set('k', { value: 1, storedAt: 1_000, expiresAt: 9_000 });
    const [file] = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    await writeFile(join(dir, file as string), '{"key":"k","entry":');
    expect(await createFileCacheStore({ dir, clock }).get('k')).toBeUndefined();
    expect(await readdir(dir)).toEqual([FILE_CACHE_TEMP_DIR]);
  });

  it('prunes expired entries without reading them, keeps valid ones and fresh temp files', async () => {
    const dir = await tempDir();
    const store = createFileCacheStore({ dir, clock });
    await store.set('old', { value: 1, storedAt: 1_000, expiresAt: 2_000 });
    await store.set('new', { value: 2, storedAt: 1_000, expiresAt: 90_000 });
    // A second process mid-write: its temporary file must survive (and one of an older version,
    // which wrote them beside the entries).
    await writeFile(join(dir, FILE_CACHE_TEMP_DIR, 'abc.json.123.deadbeef.tmp'), '{');
    await writeFile(join(dir, 'def.json.123.cafebabe.tmp'), '{');
    await writeFile(join(dir, 'README'), 'not ours');
    now = 50_000;
    expect(await store.prune()).toEqual({ removed: 1, kept: 1 });
    expect((await readdir(dir)).sort()).toEqual([expect.stringMatching(/\.json$/), 'README', 'def.json.123.cafebabe.tmp', FILE_CACHE_TEMP_DIR]);
    expect(await createFileCacheStore({ dir, clock }).get('new')).toMatchObject({ value: 2 });
    expect(await createFileCacheStore({ dir, clock }).get('old')).toBeUndefined();
    now = 100_000;
    expect(await store.prune()).toEqual({ removed: 1, kept: 0 });
    expect((await readdir(dir)).sort()).toEqual(['README', 'def.json.123.cafebabe.tmp', FILE_CACHE_TEMP_DIR]);
    expect(await tempsIn(dir)).toEqual(['abc.json.123.deadbeef.tmp']);
  });

  it('prunes temporary files abandoned over an hour ago, in its temporary directory and beside the entries', async () => {
    const dir = await tempDir();
    const store = createFileCacheStore({ dir, clock });
    now = Date.now();
    await store.set('k', { value: 1, storedAt: now, expiresAt: now + 10 * 3_600_000 });
    await writeFile(join(dir, FILE_CACHE_TEMP_DIR, 'abc.json.123.deadbeef.tmp'), '{');
    await writeFile(join(dir, 'def.json.123.cafebabe.tmp'), '{'); // an older version's
    now += 3_600_000 - 60_000; // 59 minutes on: a slow writer may still be at work
    expect(await store.prune()).toEqual({ removed: 0, kept: 1 });
    now += 2 * 60_000;
    expect(await store.prune()).toEqual({ removed: 2, kept: 1 });
    expect((await readdir(dir)).filter((name) => !name.endsWith('.json'))).toEqual([FILE_CACHE_TEMP_DIR]);
    expect(await tempsIn(dir)).toEqual([]);
  });

  it('clears the temporary files too, and nothing that is not its own', async () => {
    const dir = await tempDir();
    const store = createFileCacheStore({ dir, clock });
    await store.set('k', { value: 1, storedAt: 1_000, expiresAt: 9_000 });
    await writeFile(join(dir, FILE_CACHE_TEMP_DIR, 'abc.json.123.deadbeef.tmp'), '{');
    await writeFile(join(dir, 'def.json.123.cafebabe.tmp'), '{'); // an older version's
    await writeFile(join(dir, 'README'), 'not ours');
    await store.clear();
    expect((await readdir(dir)).sort()).toEqual(['README', FILE_CACHE_TEMP_DIR]);
    expect(await tempsIn(dir)).toEqual([]);
    await store.set('k2', { value: 2, storedAt: 1_000, expiresAt: 9_000 });
    expect(await createFileCacheStore({ dir, clock }).get('k2')).toMatchObject({ value: 2 });
  });

  it('removes the temporary files of writers killed mid-write (their process is gone), not those of live ones', async () => {
    const dir = await tempDir();
    const store = createFileCacheStore({ dir, clock });
    await store.set('k', { value: 1, storedAt: 1_000, expiresAt: 90_000 });
    // A writer killed with SIGKILL (its pid is free afterwards), and one still running.
    const killed = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const alive = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await Promise.all([once(killed, 'spawn'), once(alive, 'spawn')]);
      const temps = join(dir, FILE_CACHE_TEMP_DIR);
      await writeFile(join(temps, `abc.json.${killed.pid}.deadbeef.tmp`), '{"key":');
      await writeFile(join(temps, `def.json.${alive.pid}.cafebabe.tmp`), '{"key":');
      // An older version's, beside the entries: not listed at start (that listing is what the
      // temporary directory saves); prune() removes it once an hour old.
      await writeFile(join(dir, `123.json.${killed.pid}.0badf00d.tmp`), '{"key":');
      const exited = once(killed, 'exit');
      killed.kill('SIGKILL');
      await exited;
      expect(await store.removeAbandonedTemps()).toBe(1);
      expect(await tempsIn(dir)).toEqual([`def.json.${alive.pid}.cafebabe.tmp`]);
      expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([`123.json.${killed.pid}.0badf00d.tmp`]);
      expect(await createFileCacheStore({ dir, clock }).get('k')).toMatchObject({ value: 1 });
    } finally {
      alive.kill('SIGKILL');
    }
  });

  describe('memory layer, capped by bytes', () => {
    // Each entry's file is ~1,055 bytes of JSON: a 5,000-byte cap holds 4 of them.
    const entry = { value: 'x'.repeat(1_000), storedAt: 1_000, expiresAt: 9_000 };
    async function readAllThenRemoveFiles(maxMemoryBytes: number, count: number) {
      const dir = await tempDir();
      const writer = createFileCacheStore({ dir, clock });
      for (let i = 0; i < count; i += 1) await writer.set(`k${i}`, entry);
      const reader = createFileCacheStore({ dir, clock, maxMemoryBytes });
      for (let i = 0; i < count; i += 1) expect(await reader.get(`k${i}`)).toEqual(entry);
      // Behind the store's back: what it still answers now comes from its memory layer.
      await Promise.all((await readdir(dir)).filter((name) => name.endsWith('.json')).map((name) => rm(join(dir, name))));
      return reader;
    }

    it('holds the most recently read entries that fit in maxMemoryBytes, and no more', async () => {
      const reader = await readAllThenRemoveFiles(5_000, 10);
      for (let i = 6; i < 10; i += 1) expect(await reader.get(`k${i}`)).toEqual(entry);
      for (let i = 0; i < 6; i += 1) expect(await reader.get(`k${i}`)).toBeUndefined();
    });

    it('holds a whole working set under the default cap (64 MiB)', async () => {
      const reader = await readAllThenRemoveFiles(FILE_CACHE_MEMORY_BYTES, 50);
      for (let i = 0; i < 50; i += 1) expect(await reader.get(`k${i}`)).toEqual(entry);
    });

    it('serves an entry larger than the cap from its file only; 0 turns the layer off', async () => {
      for (const cap of [500, 0]) {
        const reader = await readAllThenRemoveFiles(cap, 1);
        expect(await reader.get('k0')).toBeUndefined();
      }
    });
  });

  it('prunes nothing in a directory that does not exist yet, nor creates it', async () => {
    const dir = join(await tempDir(), 'missing');
    const store = createFileCacheStore({ dir, clock });
    expect(await store.prune()).toEqual({ removed: 0, kept: 0 });
    expect(await store.removeAbandonedTemps()).toBe(0);
    await expect(stat(dir)).rejects.toThrow();
  });

  it('reads nothing from a directory that does not exist yet', async () => {
    const store = createFileCacheStore({ dir: join(await tempDir(), 'missing'), clock });
    expect(await store.get('k')).toBeUndefined();
    await store.clear();
  });
});
