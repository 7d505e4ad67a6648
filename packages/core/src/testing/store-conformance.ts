import { describe, expect, it } from 'vitest';
import type { CacheStore } from '../contract/cache-store.js';
import { DEMAND_TTL_MS, LOWERED_BUDGET_TTL_MS, PENDING_CHARGE_LEASE_MS, PENDING_CHARGE_POLL_MS, type RateLimitAttempt, type RateLimitStore } from '../contract/rate-limit-store.js';

/** A store under test and how to dispose of it. */
export interface StoreUnderTest<S> {
  store: S;
  /** A second handle on the same data, as another process would open it (file directory, Redis prefix). */
  another?: () => Promise<S> | S;
  close?: () => Promise<void>;
}

export interface StoreConformanceOptions<S> {
  /** Shown in the describe block: `memory`, `file`, `redis`. */
  name: string;
  /** A new, empty store for each test. */
  open: () => Promise<StoreUnderTest<S>>;
}

async function using<S>(options: StoreConformanceOptions<S>, test: (subject: StoreUnderTest<S>) => Promise<void>): Promise<void> {
  const subject = await options.open();
  try {
    await test(subject);
  } finally {
    await subject.close?.();
  }
}

const granted = (attempt: RateLimitAttempt): string => {
  expect(attempt.granted, 'granted').toBe(true);
  return (attempt as Extract<RateLimitAttempt, { granted: true }>).chargeId;
};

/**
 * Registers the rate-limit store conformance suite: the sliding-window charge log every store
 * must implement identically (core's memory and file stores, the Redis Lua script, a host's
 * own). Times are passed as `now`, so the store must use the caller's clock for this suite
 * (Redis: `rateLimitClock: 'caller'`). Call it at the top level of a test file.
 */
export function runRateLimitStoreConformance(options: StoreConformanceOptions<RateLimitStore>): void {
  const minute = { requests: 4, perMs: 60_000 };
  const day = { requests: 10, perMs: 86_400_000 };
  const T = 1_700_000_000_000;

  describe(`rate-limit store conformance: ${options.name}`, () => {
    it('grants up to the smallest window and reports remaining per window and the blocking window', () =>
      using(options, async ({ store }) => {
        for (let i = 0; i < 4; i++) {
          const attempt = await store.tryAcquire('vt', [minute, day], 1, T + i);
          granted(attempt);
          expect(attempt.remaining).toEqual([3 - i, 9 - i]);
        }
        const refused = await store.tryAcquire('vt', [minute, day], 1, T + 10);
        expect(refused).toMatchObject({ granted: false, window: 0, remaining: [0, 6] });
        expect(await store.peek('vt', [minute, day], T + 10)).toEqual([0, 6]);
      }));

    it('keeps a charge in flight inside the window until it is settled (polling, not waiting a window)', () =>
      using(options, async ({ store }) => {
        const w = [{ requests: 1, perMs: 1_000 }];
        const id = granted(await store.tryAcquire('k', w, 1, T));
        // Long after the grant, the request may still be on its way: not granted, and the wait is a poll.
        const pending = await store.tryAcquire('k', w, 1, T + 5_000);
        expect(pending).toMatchObject({ granted: false, window: 0 });
        expect((pending as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(PENDING_CHARGE_POLL_MS);
        // Answered at T + 5 000: counts from then, leaves the window 1 s later.
        await store.settle('k', w, id, T + 5_000);
        expect(await store.tryAcquire('k', w, 1, T + 5_999)).toMatchObject({ granted: false, retryAfterMs: 1 });
        granted(await store.tryAcquire('k', w, 1, T + 6_000));
      }));

    it('ends an unsettled charge with its lease (a crashed process does not hold budget forever)', () =>
      using(options, async ({ store }) => {
        const w = [{ requests: 1, perMs: 1_000 }];
        granted(await store.tryAcquire('k', w, 1, T));
        expect((await store.tryAcquire('k', w, 1, T + PENDING_CHARGE_LEASE_MS + 999)).granted).toBe(false);
        granted(await store.tryAcquire('k', w, 1, T + PENDING_CHARGE_LEASE_MS + 1_000));
      }));

    it('slides: budget returns one window after each settled charge', () =>
      using(options, async ({ store }) => {
        const w = [{ requests: 2, perMs: 1_000 }];
        await store.settle('k', w, granted(await store.tryAcquire('k', w, 1, T)), T);
        await store.settle('k', w, granted(await store.tryAcquire('k', w, 1, T + 500)), T + 500);
        expect(await store.tryAcquire('k', w, 1, T + 999)).toMatchObject({ granted: false, retryAfterMs: 1 });
        await store.settle('k', w, granted(await store.tryAcquire('k', w, 1, T + 1_000)), T + 1_000);
        expect(await store.tryAcquire('k', w, 1, T + 1_001)).toMatchObject({ granted: false, retryAfterMs: 499 });
      }));

    it('charges every window or none', () =>
      using(options, async ({ store }) => {
        const w = [{ requests: 10, perMs: 1_000 }, { requests: 3, perMs: 10_000 }];
        granted(await store.tryAcquire('k', w, 3, T));
        expect(await store.tryAcquire('k', w, 1, T + 1)).toMatchObject({ granted: false, window: 1 });
        expect(await store.peek('k', w, T + 1)).toEqual([7, 0]);
      }));

    it('counts cost in units, keeps keys apart, and reports a cost that never fits as an infinite wait', () =>
      using(options, async ({ store }) => {
        const w = [minute];
        granted(await store.tryAcquire('a', w, 4, T));
        expect((await store.tryAcquire('a', w, 1, T)).granted).toBe(false);
        granted(await store.tryAcquire('b', w, 1, T));
        expect(await store.tryAcquire('c', w, 5, T)).toMatchObject({ granted: false, retryAfterMs: Number.POSITIVE_INFINITY });
        await expect(store.tryAcquire('c', w, 0, T)).rejects.toThrow(RangeError);
      }));

    it('refuse: removes the charge and blocks the key until Retry-After', () =>
      using(options, async ({ store }) => {
        const w = [{ requests: 4, perMs: 10_000 }];
        await store.settle('k', w, granted(await store.tryAcquire('k', w, 1, T)), T);
        const id = granted(await store.tryAcquire('k', w, 1, T + 100));
        const refusal = await store.refuse('k', w, id, T + 200, 3_000);
        expect(refusal).toEqual({ blockedUntil: T + 3_200, used: [1] });
        expect(await store.tryAcquire('k', w, 1, T + 3_199)).toMatchObject({ granted: false, window: 0, retryAfterMs: 1 });
        // The refused charge was removed: 3 units left, not 2.
        expect((await store.tryAcquire('k', w, 1, T + 3_200)).remaining).toEqual([2]);
      }));

    it('refuse without Retry-After: the shortest window is full until its oldest charge leaves it', () =>
      using(options, async ({ store }) => {
        const w = [{ requests: 100, perMs: 86_400_000 }, { requests: 4, perMs: 10_000 }];
        await store.settle('k', w, granted(await store.tryAcquire('k', w, 1, T)), T);
        await store.settle('k', w, granted(await store.tryAcquire('k', w, 1, T + 1_000)), T + 1_000);
        const id = granted(await store.tryAcquire('k', w, 1, T + 2_000));
        expect(await store.refuse('k', w, id, T + 2_050)).toEqual({ blockedUntil: T + 10_000, used: [2, 2] });
        expect(await store.tryAcquire('k', w, 1, T + 9_999)).toMatchObject({ granted: false, window: 1, retryAfterMs: 1 });
        granted(await store.tryAcquire('k', w, 1, T + 10_000));
        // With nothing in the window, a refusal blocks for the whole window.
        const other = granted(await store.tryAcquire('other', w, 1, T));
        expect((await store.refuse('other', w, other, T + 10)).blockedUntil).toBe(T + 10_010);
      }));

    it('tells when the spent part of each window starts to come back (freesIn, if implemented)', () =>
      using(options, async ({ store }) => {
        if (!store.freesIn) return;
        const w = [{ requests: 4, perMs: 10_000 }, { requests: 100, perMs: 60_000 }];
        expect(await store.freesIn('k', w, T)).toEqual([10_000, 60_000]);
        await store.settle('k', w, granted(await store.tryAcquire('k', w, 1, T)), T + 500);
        granted(await store.tryAcquire('k', w, 1, T + 600)); // in flight: not the oldest settled
        expect(await store.freesIn('k', w, T + 2_000)).toEqual([8_500, 58_500]);
      }));

    it('ignores a settle or refusal naming an unknown charge', () =>
      using(options, async ({ store }) => {
        const w = [{ requests: 1, perMs: 1_000 }];
        await store.settle('k', w, '12345:1', T);
        granted(await store.tryAcquire('k', w, 1, T));
      }));

    it('is atomic: exactly `requests` of many concurrent attempts are granted, across handles', () =>
      using(options, async ({ store, another }) => {
        const handles = [store, another ? await another() : store, another ? await another() : store];
        const w = [{ requests: 5, perMs: 60_000 }];
        const attempts = await Promise.all(Array.from({ length: 30 }, (_, i) => (handles[i % 3] as RateLimitStore).tryAcquire('shared', w, 1, T + i)));
        expect(attempts.filter((a) => a.granted)).toHaveLength(5);
        const ids = attempts.flatMap((a) => (a.granted ? [a.chargeId] : []));
        expect(new Set(ids).size).toBe(5);
      }));

    it('forgets old charges (bounded)', () =>
      using(options, async ({ store }) => {
        const w = [{ requests: 1, perMs: 10 }];
        for (let t = 0; t < 500; t += 10) {
          const id = granted(await store.tryAcquire('k', w, 1, T + t));
          await store.settle('k', w, id, T + t);
        }
      }));

    it('answers a settle with the remaining budget per window', () =>
      using(options, async ({ store }) => {
        const id = granted(await store.tryAcquire('k', [minute, day], 1, T));
        const left = await store.settle('k', [minute, day], id, T + 300);
        // Optional in the interface; core's stores and Redis answer.
        if (left !== undefined) expect(left).toEqual([3, 9]);
      }));

    it("publishes demand per participant, answers with the others' live demands, and forgets it after DEMAND_TTL_MS", () =>
      using(options, async ({ store, another }) => {
        if (!store.demand) return;
        const other = another ? await another() : store;
        const w = [minute];
        expect(await store.demand('vt', w, 'a', 14, T)).toEqual([]);
        expect(await other.demand!('vt', w, 'b', 20, T + 1)).toEqual([14]);
        expect((await store.demand('vt', w, 'a', 10, T + 2)).sort()).toEqual([20]);
        expect(await store.demand('other-key', w, 'a', 5, T + 2)).toEqual([]);
        // b withdraws; a published last at T + 2 and is forgotten DEMAND_TTL_MS later (a crashed process).
        expect(await other.demand!('vt', w, 'b', 0, T + 3)).toEqual([10]);
        expect(await other.demand!('vt', w, 'c', 1, T + 2 + DEMAND_TTL_MS)).toEqual([]);
      }));

    it('shares a lowered budget with every handle, reports it in `limits`, and drops it after LOWERED_BUDGET_TTL_MS', () =>
      using(options, async ({ store, another }) => {
        if (!store.lower) return;
        const other = another ? await another() : store;
        await store.lower('vt', [minute, day], 0, 3, T);
        const attempts = [];
        for (let i = 0; i < 4; i++) attempts.push(await other.tryAcquire('vt', [minute, day], 1, T + 1 + i));
        expect(attempts.map((a) => a.granted)).toEqual([true, true, true, false]);
        expect(attempts[0]?.limits).toEqual([3, 10]);
        expect(await other.peek('vt', [minute, day], T + 10)).toEqual([0, 7]);
        // Another configuration of the window (5/min) is not lowered: it is not the same budget.
        expect((await other.tryAcquire('vt', [{ requests: 5, perMs: 60_000 }], 1, T + 10)).limits).toBeUndefined();
        const later = await other.tryAcquire('vt', [minute, day], 1, T + LOWERED_BUDGET_TTL_MS + 1);
        expect(later.limits).toBeUndefined();
      }));

    it('reset forgets one key only', () =>
      using(options, async ({ store }) => {
        if (!store.reset) return;
        const w = [{ requests: 1, perMs: 60_000 }];
        granted(await store.tryAcquire('a', w, 1, T));
        granted(await store.tryAcquire('b', w, 1, T));
        await store.reset('a');
        granted(await store.tryAcquire('a', w, 1, T));
        expect((await store.tryAcquire('b', w, 1, T)).granted).toBe(false);
      }));
  });
}

/**
 * Registers the cache store conformance suite (memory, file, Redis, a host's own): round trip
 * with provenance, misses, expiry, delete, clear, keys kept apart. Entries are stamped with
 * real time, so the store must use the system clock (its default).
 */
export function runCacheStoreConformance(options: StoreConformanceOptions<CacheStore>): void {
  describe(`cache store conformance: ${options.name}`, () => {
    it('round-trips an entry with its provenance, and misses on an unknown key', () =>
      using(options, async ({ store }) => {
        const now = Date.now();
        expect(await store.get('missing')).toBeUndefined();
        const entry = { value: { verdict: 'malicious', n: [1, 2] }, storedAt: now, expiresAt: now + 60_000 };
        await store.set('k', entry);
        expect(await store.get('k')).toEqual(entry);
      }));

    it('serves what another handle stored (another process)', () =>
      using(options, async ({ store, another }) => {
        if (!another) return;
        const now = Date.now();
        await store.set('shared', { value: 1, storedAt: now, expiresAt: now + 60_000 });
        expect((await (await another()).get('shared'))?.value).toBe(1);
      }));

    it('treats an expired entry as a miss', () =>
      using(options, async ({ store }) => {
        const now = Date.now();
        await store.set('old', { value: 1, storedAt: now - 2_000, expiresAt: now - 1_000 });
        expect(await store.get('old')).toBeUndefined();
      }));

    it('overwrites, deletes one entry, and clears all', () =>
      using(options, async ({ store }) => {
        const now = Date.now();
        await store.set('a', { value: 1, storedAt: now, expiresAt: now + 60_000 });
        await store.set('a', { value: 2, storedAt: now, expiresAt: now + 60_000 });
        await store.set('b', { value: 3, storedAt: now, expiresAt: now + 60_000 });
        expect((await store.get('a'))?.value).toBe(2);
        await store.delete('a');
        expect(await store.get('a')).toBeUndefined();
        expect((await store.get('b'))?.value).toBe(3);
        await store.clear();
        expect(await store.get('b')).toBeUndefined();
      }));
  });
}
