import { describe, expect, it } from 'vitest';
import { isXEnrichError } from '../errors/x-enrich-error.js';
import { createMemoryRateLimitStore } from './memory-rate-limit-store.js';
import { createRateLimiter } from './rate-limiter.js';
import { systemClock } from '../di/tokens.js';

const minuteAndDay = [
  { requests: 4, perMs: 60_000 },
  { requests: 10, perMs: 86_400_000 },
];

describe('memory rate-limit store', () => {
  it('grants up to the smallest window and reports remaining per window', async () => {
    const store = createMemoryRateLimitStore();
    for (let i = 0; i < 4; i++) expect((await store.tryAcquire('vt', minuteAndDay, 1, 1_000)).granted).toBe(true);
    const refused = await store.tryAcquire('vt', minuteAndDay, 1, 2_000);
    expect(refused).toMatchObject({ granted: false, window: 0, retryAfterMs: 59_000, remaining: [0, 6] });
    expect(await store.peek('vt', minuteAndDay, 2_000)).toEqual([0, 6]);
  });

  it('slides: budget returns one minute after each charge', async () => {
    const store = createMemoryRateLimitStore();
    const windows = [{ requests: 2, perMs: 1_000 }];
    await store.tryAcquire('k', windows, 1, 0);
    await store.tryAcquire('k', windows, 1, 500);
    expect((await store.tryAcquire('k', windows, 1, 999)).granted).toBe(false);
    expect((await store.tryAcquire('k', windows, 1, 1_000)).granted).toBe(true);
    expect((await store.tryAcquire('k', windows, 1, 1_001)).granted).toBe(false);
  });

  it('charges all windows or none', async () => {
    const store = createMemoryRateLimitStore();
    const windows = [
      { requests: 10, perMs: 1_000 },
      { requests: 3, perMs: 10_000 },
    ];
    expect((await store.tryAcquire('k', windows, 3, 0)).granted).toBe(true);
    const refused = await store.tryAcquire('k', windows, 1, 1);
    expect(refused).toMatchObject({ granted: false, window: 1 });
    // The refused attempt did not spend the first window's budget.
    expect(await store.peek('k', windows, 1)).toEqual([7, 0]);
  });

  it('counts cost in the provider units and keeps keys apart', async () => {
    const store = createMemoryRateLimitStore();
    const windows = [{ requests: 4, perMs: 60_000 }];
    expect((await store.tryAcquire('a', windows, 4, 0)).granted).toBe(true);
    expect((await store.tryAcquire('a', windows, 1, 0)).granted).toBe(false);
    expect((await store.tryAcquire('b', windows, 1, 0)).granted).toBe(true);
    expect((await store.tryAcquire('c', windows, 5, 0))).toMatchObject({ granted: false, retryAfterMs: Number.POSITIVE_INFINITY });
  });

  it('stays bounded: old charges are forgotten', async () => {
    const store = createMemoryRateLimitStore();
    const windows = [{ requests: 1, perMs: 10 }];
    for (let t = 0; t < 10_000; t += 10) expect((await store.tryAcquire('k', windows, 1, t)).granted).toBe(true);
  });
});

describe('rate limiter', () => {
  it('waits for budget instead of failing', async () => {
    const limiter = createRateLimiter({ key: 'k', windows: [{ requests: 2, perMs: 60 }], store: createMemoryRateLimitStore() });
    await limiter.acquire();
    await limiter.acquire();
    await limiter.acquire(); // must wait for the first charge to leave the window
    expect(limiter.waitedMs).toBeGreaterThan(0);
    expect((await limiter.remaining())[0]).toMatchObject({ requests: 2, perMs: 60 });
  });

  it('fails fast with X_RATE_LIMIT_EXHAUSTED when the day is spent, saying when budget returns', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const store = createMemoryRateLimitStore();
    const spentDay = createRateLimiter({ key: 'vt3', windows: [{ requests: 1, perMs: 86_400_000 }], store, clock: { now: () => now, sleep: systemClock.sleep }, maxWaitMs: 300_000 });
    await spentDay.acquire();
    const error = await spentDay.acquire().catch((e: unknown) => e);
    expect(isXEnrichError(error) && error.code).toBe('X_RATE_LIMIT_EXHAUSTED');
    expect((error as Error).message).toContain('1 per 1d');
    expect((error as Error).message).toContain('2026-01-02T00:00:00.000Z');
    expect(spentDay.waitedMs).toBe(0);
  });

  it('stops waiting with X_ABORTED when the signal aborts', async () => {
    const limiter = createRateLimiter({ key: 'k', windows: [{ requests: 1, perMs: 60_000 }], store: createMemoryRateLimitStore() });
    await limiter.acquire();
    const controller = new AbortController();
    const pending = limiter.acquire(1, controller.signal).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 5);
    const error = await pending;
    expect(isXEnrichError(error) && error.code).toBe('X_ABORTED');
  });

  it('does not limit when no windows are configured', async () => {
    const limiter = createRateLimiter({ key: 'k', windows: [], store: createMemoryRateLimitStore() });
    for (let i = 0; i < 100; i++) await limiter.acquire();
    expect(await limiter.remaining()).toEqual([]);
  });
});
