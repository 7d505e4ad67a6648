import { describe, expect, it } from 'vitest';
import { orderedPool } from './ordered-pool.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('orderedPool', () => {
  it('keeps starting tasks while the oldest is slow, and yields in input order', async () => {
    const slow = deferred<string>();
    const started: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const pool = orderedPool(
      Array.from({ length: 50 }, (_, i) => i),
      async (i) => {
        started.push(i);
        running++;
        maxRunning = Math.max(maxRunning, running);
        try {
          if (i === 0) return await slow.promise;
          await tick();
          return `r${i}`;
        } finally {
          running--;
        }
      },
      { concurrency: 4, window: 100 },
    );
    const out: string[] = [];
    const consuming = (async () => {
      for await (const value of pool) out.push(value);
    })();
    // Every other task runs to the end while task 0 waits: nothing is blocked behind it.
    while (started.length < 50) await tick();
    expect(out).toEqual([]); // input order: nothing overtakes task 0 in the output
    expect(maxRunning).toBeLessThanOrEqual(4);
    slow.resolve('r0');
    await consuming;
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`));
  });

  it('bounds the reorder buffer: a full window stops reading the source until the head settles', async () => {
    const slow = deferred<number>();
    let read = 0;
    function* source() {
      for (let i = 0; i < 100; i++) {
        read++;
        yield i;
      }
    }
    const pool = orderedPool(source(), (i) => (i === 0 ? slow.promise : Promise.resolve(i)), { concurrency: 2, window: 10 });
    const out: number[] = [];
    const consuming = (async () => {
      for await (const value of pool) out.push(value);
    })();
    for (let i = 0; i < 20; i++) await tick();
    expect(read).toBe(10);
    slow.resolve(0);
    await consuming;
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('yields finished results while the source is slow to give the next input (a pipe)', async () => {
    const gate = deferred<void>();
    async function* source() {
      yield 1;
      yield 2;
      await gate.promise;
      yield 3;
    }
    const iterator = orderedPool(source(), async (i) => i * 10, { concurrency: 4, window: 8 })[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ value: 10, done: false });
    expect(await iterator.next()).toEqual({ value: 20, done: false });
    gate.resolve();
    expect(await iterator.next()).toEqual({ value: 30, done: false });
    expect((await iterator.next()).done).toBe(true);
  });

  it('takes synchronous results without a promise, and rethrows a failure at its position', async () => {
    const out: unknown[] = [];
    const error = await (async () => {
      for await (const value of orderedPool([1, 2, 3, 4], (i) => (i === 3 ? Promise.reject(new Error('three')) : i), { concurrency: 2, window: 4 })) out.push(value);
    })().catch((e: unknown) => e);
    expect(out).toEqual([1, 2]);
    expect((error as Error).message).toBe('three');
  });

  it('closes the source when the consumer stops early', async () => {
    let closed = false;
    function* source() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    for await (const value of orderedPool(source(), async (i) => i, { concurrency: 3, window: 6 })) if (value === 5) break;
    expect(closed).toBe(true);
  });
});
