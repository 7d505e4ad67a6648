import { describe, expect, it } from 'vitest';
import { Bulkhead } from './bulkhead.js';

class Rejected extends Error {}
class Cancelled extends Error {}

function setup(capacity: number, queue: number) {
  let rejections = 0;
  const bulkhead = new Bulkhead(capacity, queue, { rejected: () => new Rejected(), cancelled: () => new Cancelled(), onReject: () => void rejections++ });
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  /** A call that starts when admitted and finishes when `open(name)` is called. */
  const call = (name: string, signal = new AbortController().signal) =>
    bulkhead.execute(() => {
      started.push(name);
      return new Promise<string>((resolve) => gates.set(name, () => resolve(name)));
    }, signal);
  const open = async (name: string) => {
    gates.get(name)?.();
    // The freed slot is handed over when the call's promise settles (a few microtasks).
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { bulkhead, call, open, started, rejections: () => rejections };
}

describe('Bulkhead', () => {
  it('runs capacity calls at once, queues the next ones first in first out, and refuses beyond the queue', async () => {
    const { call, open, started, rejections } = setup(2, 2);
    const a = call('a');
    const b = call('b');
    const c = call('c');
    const d = call('d');
    await expect(call('e')).rejects.toBeInstanceOf(Rejected);
    expect([started, rejections()]).toEqual([['a', 'b'], 1]);
    await open('b');
    expect(started).toEqual(['a', 'b', 'c']);
    await open('a');
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    await open('c');
    await open('d');
    expect(await Promise.all([a, b, c, d])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('cancels a queued call whose signal aborted, and gives its turn to the next', async () => {
    const { call, open, started } = setup(1, 5);
    const a = call('a');
    const controller = new AbortController();
    const b = call('b', controller.signal);
    const c = call('c');
    controller.abort();
    await open('a');
    await expect(b).rejects.toBeInstanceOf(Cancelled);
    expect(started).toEqual(['a', 'c']);
    await open('c');
    expect([await a, await c]).toEqual(['a', 'c']);
  });

  it('refuses at once a call whose signal already aborted', async () => {
    const { bulkhead } = setup(1, 1);
    const controller = new AbortController();
    controller.abort();
    await expect(bulkhead.execute(async () => 'x', controller.signal)).rejects.toBeInstanceOf(Cancelled);
  });

  it('frees the slot of a call that fails, synchronously or not', async () => {
    const { bulkhead } = setup(1, 0);
    const signal = new AbortController().signal;
    await expect(bulkhead.execute(() => { throw new Error('sync'); }, signal)).rejects.toThrow('sync');
    await expect(bulkhead.execute(() => Promise.reject(new Error('async')), signal)).rejects.toThrow('async');
    await expect(bulkhead.execute(async () => 'ok', signal)).resolves.toBe('ok');
  });
});
