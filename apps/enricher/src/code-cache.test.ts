import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { codeCacheFile, compileWithCodeCache, SAVE_AFTER_MAJOR_GCS, saveAtExitOrBeforeFlush } from './code-cache.js';

// The processes that really start from a cache are in test/e2e/code-cache.e2e.test.ts; here one
// process compiles small scripts, so each test's source is its own (V8 also keeps compiled
// scripts in memory, by source).
let dir: string;
let serial = 0;
const source = (value: string): string => `(function () { return ${JSON.stringify(`${value} ${(serial += 1)} ${Math.random()}`)}; })`;

// A full GC on demand: `--expose-gc` set now shows `gc` in contexts made after it.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;
/** Node reports a GC to its observers on a later turn of the event loop. */
const gcReported = (): Promise<void> => new Promise((done) => setTimeout(done, 20));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x-enrich-code-cache-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the V8 code cache', () => {
  it('misses without a file, writes one on save, and is a hit for the same key and source', async () => {
    const text = source('a');
    const first = compileWithCodeCache({ source: text, filename: 'a.js', key: 'abc', dir, variant: 'enrich' });
    expect(first.cache).toBe('miss');
    first.save();
    expect(await readdir(dir)).toEqual([`abc-enrich-v8-${process.versions.v8}-${process.arch}.v8cache`]);
    const second = compileWithCodeCache({ source: text, filename: 'a.js', key: 'abc', dir, variant: 'enrich' });
    expect(second.cache).toBe('hit');
    expect((second.script.runInThisContext() as () => string)()).toBe((first.script.runInThisContext() as () => string)());
  });

  it('keeps builds and commands apart by file name', () => {
    expect(codeCacheFile({ dir, key: 'abc', variant: 'serve' })).not.toBe(codeCacheFile({ dir, key: 'abc', variant: 'enrich' }));
    expect(codeCacheFile({ dir, key: 'abd', variant: 'enrich' })).not.toBe(codeCacheFile({ dir, key: 'abc', variant: 'enrich' }));
    expect(codeCacheFile({ dir: undefined, key: 'abc' })).toBeUndefined();
  });

  it("ignores another build's cache: a new key misses and runs the new source", async () => {
    const old = compileWithCodeCache({ source: source('old'), filename: 'a.js', key: 'build1', dir });
    old.save();
    const text = source('new');
    const rebuilt = compileWithCodeCache({ source: text, filename: 'a.js', key: 'build2', dir });
    expect(rebuilt.cache).toBe('miss');
    expect((rebuilt.script.runInThisContext() as () => string)()).toMatch(/^new /);
  });

  it('rejects a damaged file (a byte changed in the V8 data: V8 itself would crash on some), and save rewrites it', async () => {
    const text = source('damaged');
    const file = codeCacheFile({ dir, key: 'k' })!;
    compileWithCodeCache({ source: text, filename: 'a.js', key: 'k', dir }).save();
    const good = await readFile(file);
    const damaged = Buffer.from(good);
    damaged[damaged.length >> 1]! ^= 0xff;
    await writeFile(file, damaged);
    const again = compileWithCodeCache({ source: text, filename: 'a.js', key: 'k', dir });
    expect(again.cache).toBe('miss');
    again.save();
    expect((await readFile(file)).equals(damaged)).toBe(false);
    expect(compileWithCodeCache({ source: text, filename: 'a.js', key: 'k', dir }).cache).toBe('hit');
  });

  it('rejects a truncated or foreign file', async () => {
    const text = source('foreign');
    const file = codeCacheFile({ dir, key: 'k' })!;
    for (const contents of [Buffer.alloc(0), Buffer.from('not a code cache'), Buffer.alloc(100_000, 7)]) {
      await writeFile(file, contents);
      expect(compileWithCodeCache({ source: text, filename: 'a.js', key: 'k', dir }).cache).toBe('miss');
    }
  });

  it("is rejected by V8 when it holds another script's code (a valid file under the wrong key), and save rewrites it", async () => {
    const file = codeCacheFile({ dir, key: 'k' })!;
    compileWithCodeCache({ source: `${source('other')} // a longer script`, filename: 'a.js', key: 'k', dir }).save();
    const foreign = await readFile(file);
    const text = source('mine');
    const compiled = compileWithCodeCache({ source: text, filename: 'a.js', key: 'k', dir });
    expect(compiled.script.cachedDataRejected).toBe(true);
    expect(compiled.cache).toBe('miss');
    compiled.save();
    expect((await readFile(file)).equals(foreign)).toBe(false);
    expect(compileWithCodeCache({ source: text, filename: 'a.js', key: 'k', dir }).cache).toBe('hit');
  });

  it('is harmless when the directory cannot be written: no error, no output', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, '');
    const stderr = vi.spyOn(process.stderr, 'write');
    const compiled = compileWithCodeCache({ source: source('unwritable'), filename: 'a.js', key: 'k', dir: join(blocker, 'code-cache') });
    expect(compiled.cache).toBe('miss');
    expect(() => compiled.save()).not.toThrow();
    expect(stderr).not.toHaveBeenCalled();
    stderr.mockRestore();
    expect((compiled.script.runInThisContext() as () => string)()).toMatch(/^unwritable /);
  });

  it('compiles without a cache when there is no directory', () => {
    const compiled = compileWithCodeCache({ source: source('off'), filename: 'a.js', key: 'k', dir: undefined });
    expect(compiled.cache).toBe('off');
    compiled.save();
  });

  it("keeps this build's files and the two most recent other builds' when it writes", async () => {
    const day = 86_400;
    const now = Date.now() / 1000;
    for (const [build, age] of [['old1', 4], ['old2', 3], ['old3', 2], ['old4', 1]] as const) {
      for (const variant of ['enrich', 'serve']) {
        const file = codeCacheFile({ dir, key: build, variant })!;
        await writeFile(file, 'x');
        await utimes(file, now - age * day, now - age * day);
      }
    }
    compileWithCodeCache({ source: source('current'), filename: 'a.js', key: 'current', dir, variant: 'enrich' }).save();
    const builds = new Set((await readdir(dir)).map((name) => name.slice(0, name.indexOf('-'))));
    expect([...builds].sort()).toEqual(['current', 'old3', 'old4']);
    expect((await stat(codeCacheFile({ dir, key: 'old4', variant: 'serve' })!)).isFile()).toBe(true);
  });

  describe('when a miss writes its cache', () => {
    it("writes it after the given number of full GCs, before exit (a long run's start-up code would be flushed from memory by then)", async () => {
      const text = source('long run');
      const exitListeners = process.listenerCount('exit');
      const compiled = compileWithCodeCache({ source: text, filename: 'a.js', key: 'gc', dir, variant: 'serve' });
      saveAtExitOrBeforeFlush(compiled, 2);
      expect(process.listenerCount('exit')).toBe(exitListeners + 1);
      fullGc();
      await gcReported();
      expect(await readdir(dir)).toEqual([]);
      fullGc();
      await vi.waitFor(async () => expect(await readdir(dir)).toEqual([codeCacheFile({ dir: '', key: 'gc', variant: 'serve' })]));
      // Written once: no exit listener left, and more GCs write nothing.
      expect(process.listenerCount('exit')).toBe(exitListeners);
      const written = await stat(codeCacheFile({ dir, key: 'gc', variant: 'serve' })!);
      fullGc();
      await gcReported();
      expect((await stat(codeCacheFile({ dir, key: 'gc', variant: 'serve' })!)).mtimeMs).toBe(written.mtimeMs);
      expect(compileWithCodeCache({ source: text, filename: 'a.js', key: 'gc', dir, variant: 'serve' }).cache).toBe('hit');
    });

    it('waits for exit when the run has fewer full GCs (a short run: everything it compiled is still there)', async () => {
      expect(SAVE_AFTER_MAJOR_GCS).toBeGreaterThan(1);
      const exitListeners = process.listenerCount('exit');
      const compiled = compileWithCodeCache({ source: source('short run'), filename: 'a.js', key: 'exit', dir });
      const save = vi.spyOn(compiled, 'save');
      saveAtExitOrBeforeFlush(compiled);
      fullGc();
      await gcReported();
      expect(save).not.toHaveBeenCalled();
      const listener = process.listeners('exit').at(-1)!;
      expect(process.listenerCount('exit')).toBe(exitListeners + 1);
      // What exit would run (emitting 'exit' here would end the test runner's own listeners too).
      listener.call(process, 0);
      expect(save).toHaveBeenCalledTimes(1);
      expect(process.listenerCount('exit')).toBe(exitListeners);
      expect(await readdir(dir)).toEqual([codeCacheFile({ dir: '', key: 'exit' })]);
    });

    it('does nothing on a hit or with the cache off', () => {
      const text = source('hit');
      compileWithCodeCache({ source: text, filename: 'a.js', key: 'hit', dir }).save();
      const exitListeners = process.listenerCount('exit');
      saveAtExitOrBeforeFlush(compileWithCodeCache({ source: text, filename: 'a.js', key: 'hit', dir }));
      saveAtExitOrBeforeFlush(compileWithCodeCache({ source: text, filename: 'a.js', key: 'hit', dir: undefined }));
      expect(process.listenerCount('exit')).toBe(exitListeners);
    });
  });
});
