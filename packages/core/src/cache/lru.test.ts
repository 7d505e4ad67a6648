import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lru } from './lru.js';
import { createMemoryCacheStore } from './memory-cache-store.js';

/** The reference: an array of [key, value], most recently used first; obviously right, slow. */
class ModelLru {
  entries: Array<[number, number]> = [];
  constructor(readonly max: number) {}
  private take(key: number): [number, number] | undefined {
    const i = this.entries.findIndex(([k]) => k === key);
    return i < 0 ? undefined : this.entries.splice(i, 1)[0];
  }
  get(key: number): number | undefined {
    const entry = this.take(key);
    if (!entry) return undefined;
    this.entries.unshift(entry);
    return entry[1];
  }
  set(key: number, value: number): void {
    this.take(key);
    this.entries.unshift([key, value]);
    if (this.entries.length > this.max) this.entries.pop();
  }
  delete(key: number): boolean {
    return this.take(key) !== undefined;
  }
  clear(): void {
    this.entries = [];
  }
}

const op = fc.oneof(
  fc.record({ op: fc.constant('get' as const), key: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 12 }), value: fc.integer() }),
  fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('clear' as const) }),
);

describe('Lru', () => {
  it('agrees with a reference model on every sequence of operations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
        const lru = new Lru<number, number>(max);
        const model = new ModelLru(max);
        for (const o of ops) {
          switch (o.op) {
            case 'get':
              expect(lru.get(o.key)).toBe(model.get(o.key));
              break;
            case 'set':
              lru.set(o.key, o.value);
              model.set(o.key, o.value);
              break;
            case 'delete':
              expect(lru.delete(o.key)).toBe(model.delete(o.key));
              break;
            case 'clear':
              lru.clear();
              model.clear();
              break;
          }
          // Same entries, in the same order of recency, after every step.
          expect([...lru.keys()]).toEqual(model.entries.map(([k]) => k));
          expect(lru.size).toBe(model.entries.length);
          // The map agrees with the list: every listed key is found (read in lockstep with the model).
          for (const [k] of [...model.entries]) expect(lru.get(k)).toBe(model.get(k));
          expect([...lru.keys()]).toEqual(model.entries.map(([k]) => k));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('evicts the least recently used entry, a read counting as a use', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect([...lru.keys()]).toEqual(['c', 'a']);
    expect(lru.get('b')).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses a capacity of %s, saying what it takes', (max) => {
    expect(() => new Lru(max)).toThrow(new RangeError(`An LRU holds a whole number of entries, 1 or more; got ${String(max)}.`));
  });
});

describe('memory cache store options', () => {
  it.each([0, -5, 2.5, Number.NaN])('refuses maxEntries %s with a message naming the option', (maxEntries) => {
    expect(() => createMemoryCacheStore({ maxEntries })).toThrow(new RangeError(`The memory cache store's maxEntries must be a whole number of 1 or more; got ${String(maxEntries)}.`));
  });

  it('holds maxEntries entries, evicting the least recently used', async () => {
    const store = createMemoryCacheStore({ maxEntries: 2 });
    const entry = (value: number) => ({ value, storedAt: 0, expiresAt: Number.MAX_SAFE_INTEGER });
    await store.set('a', entry(1));
    await store.set('b', entry(2));
    expect((await store.get('a'))?.value).toBe(1);
    await store.set('c', entry(3));
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.value).toBe(1);
    expect((await store.get('c'))?.value).toBe(3);
  });
});
