import { describe, expect, it } from 'vitest';
import { isXEnrichError } from '../contract/x-enrich-error.js';
import { captureLogger } from '../testing/capture.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { estimateBatchMs } from './estimate.js';
import { createMemoryRateLimitStore } from './memory-rate-limit-store.js';
import { checkWindows, createRateLimiter, describeRate } from './rate-limiter.js';

describe('rate limiter', () => {
  it('waits for budget; a settled charge counts from its answer, not its grant', async () => {
    const clock = createFakeClock();
    const limiter = createRateLimiter({ key: 'k', windows: [{ requests: 2, perMs: 1_000 }], store: createMemoryRateLimitStore(), clock });
    const a = await limiter.acquire();
    const b = await limiter.acquire();
    await clock.advance(300); // the answers take 300 ms
    await a.settle();
    await b.settle();
    let third = false;
    const pending = limiter.acquire().then((grant) => ((third = true), grant));
    await clock.advance(999); // 1 299 ms after the grant, 999 after the answer: still inside the window
    expect(third).toBe(false);
    await clock.advance(1);
    await pending;
    expect(third).toBe(true);
    expect(limiter.waitedMs).toBe(1_000);
  });

  it('wakes a waiter at once when a charge in flight is settled in this process', async () => {
    const clock = createFakeClock();
    const limiter = createRateLimiter({ key: 'k', windows: [{ requests: 1, perMs: 1_000 }], store: createMemoryRateLimitStore(), clock });
    const first = await limiter.acquire();
    let done = false;
    const second = limiter.acquire().then(() => (done = true));
    await clock.advance(0);
    await first.settle(); // answered at once: the next may go 1 s later
    await clock.advance(999);
    expect(done).toBe(false);
    await clock.advance(1);
    await second;
  });

  it('absorbs a refusal: the window is blocked until Retry-After, logged once for all refused requests', async () => {
    const clock = createFakeClock();
    const logger = captureLogger();
    const limiter = createRateLimiter({ key: 'vt', windows: [{ requests: 4, perMs: 60_000 }], store: createMemoryRateLimitStore(), clock, logger });
    const grants = await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    // Another tool spent the key: all three are refused, the upstream says 10 s.
    await Promise.all(grants.map((grant) => grant.refused(10_000)));
    expect(logger.lines.filter((r) => r.obj.code === 'X_WARN_QUOTA_REFUSED')).toHaveLength(1);
    let granted = false;
    const again = limiter.acquire().then(() => (granted = true));
    await clock.advance(9_999);
    expect(granted).toBe(false);
    await clock.advance(1);
    await again;
  });

  it('lowers its budget to what the upstream accepts when refusals repeat, and warns once with both rates', async () => {
    const clock = createFakeClock();
    const logger = captureLogger();
    const limiter = createRateLimiter({ key: 'vt', windows: [{ requests: 4, perMs: 60_000 }], store: createMemoryRateLimitStore(), clock, logger });
    for (let round = 0; round < 2; round++) {
      // The real quota is 3 a minute: the 4th request of each window is refused.
      for (let i = 0; i < 3; i++) await (await limiter.acquire()).settle();
      await (await limiter.acquire()).refused();
      await clock.advance(60_000);
    }
    expect((await limiter.remaining())[0]).toMatchObject({ requests: 3 });
    const lowered = logger.lines.filter((r) => r.obj.code === 'X_WARN_QUOTA_LOWERED');
    expect(lowered).toHaveLength(1);
    expect(lowered[0]?.msg).toContain('configured 4/min, the upstream refuses above 3/min');
  });

  it('fails fast with X_RATE_LIMIT_EXHAUSTED when the day is spent, saying when budget returns', async () => {
    const clock = createFakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const spentDay = createRateLimiter({ key: 'vt3', windows: [{ requests: 1, perMs: 86_400_000 }], store: createMemoryRateLimitStore(), clock, maxWaitMs: 300_000 });
    await (await spentDay.acquire()).settle();
    const error = await spentDay.acquire().catch((e: unknown) => e);
    expect(isXEnrichError(error) && error.code).toBe('X_RATE_LIMIT_EXHAUSTED');
    expect((error as Error).message).toContain('1 per 1d');
    expect((error as Error).message).toContain('2026-01-02T00:00:00.000Z');
    expect(spentDay.waitedMs).toBe(0);
  });

  it('stops waiting with X_ABORTED when the signal aborts', async () => {
    const clock = createFakeClock();
    const limiter = createRateLimiter({ key: 'k', windows: [{ requests: 1, perMs: 60_000 }], store: createMemoryRateLimitStore(), clock });
    await (await limiter.acquire()).settle();
    const controller = new AbortController();
    const pending = limiter.acquire(1, controller.signal).catch((e: unknown) => e);
    await clock.advance(10);
    controller.abort();
    const error = await pending;
    expect(isXEnrichError(error) && error.code).toBe('X_ABORTED');
  });

  it('does not limit when no windows are configured', async () => {
    const limiter = createRateLimiter({ key: 'k', windows: [], store: createMemoryRateLimitStore() });
    for (let i = 0; i < 100; i++) await limiter.acquire();
    expect(await limiter.remaining()).toEqual([]);
  });

  it('rejects a limit that can never be met with one clear X_CONFIG_INVALID', async () => {
    expect(() => checkWindows([{ requests: 0, perMs: 60_000 }], 'providers.vt3.rateLimit')).toThrow(/can never be met/);
    expect(() => createRateLimiter({ key: 'k', windows: [{ requests: 1, perMs: 0 }], store: createMemoryRateLimitStore() })).toThrow(/can never be met/);
    const limiter = createRateLimiter({ key: 'k', windows: [{ requests: 2, perMs: 60_000 }], store: createMemoryRateLimitStore() });
    const error = await limiter.acquire(3).catch((e: unknown) => e);
    expect(isXEnrichError(error) && error.code).toBe('X_CONFIG_INVALID');
    expect((error as Error).message).toContain('costs 3 units');
  });

  it('describes rates for people', () => {
    expect([describeRate(4, 60_000), describeRate(500, 86_400_000), describeRate(8, 5_000)]).toEqual(['4/min', '500/day', '8 per 5s']);
  });
});

describe('estimateBatchMs', () => {
  it('spends the remaining budget at once, then one window (plus a round trip) per wave', () => {
    const minute = { requests: 4, perMs: 60_000 };
    expect(estimateBatchMs({ lookups: 13, windows: [{ ...minute, remaining: 4 }] })).toBe(180_000);
    expect(estimateBatchMs({ lookups: 13, windows: [{ ...minute, remaining: 4 }], latencyMs: 100 })).toBe(3 * 60_100 + 100);
    expect(estimateBatchMs({ lookups: 13, cached: 9, windows: [{ ...minute, remaining: 4 }] })).toBe(0);
    expect(estimateBatchMs({ lookups: 4, windows: [{ ...minute, remaining: 0 }] })).toBe(60_000);
    expect(estimateBatchMs({ lookups: 100, windows: [] })).toBe(0);
    // A window spent by a previous run that frees up in 20 s: 4 then, 4 a minute later.
    expect(estimateBatchMs({ lookups: 8, windows: [{ ...minute, remaining: 0, freesInMs: 20_000 }] })).toBe(80_000);
    // The closed formula for huge batches agrees with the replay.
    expect(estimateBatchMs({ lookups: 400_001, windows: [{ requests: 4, perMs: 1, remaining: 4 }] })).toBe(100_000);
  });
});

describe('abort while the store is being asked', () => {
  it('gives up at once when the signal aborted during a store call, instead of sleeping out the wait', async () => {
    const clock = createFakeClock();
    const memory = createMemoryRateLimitStore();
    const controller = new AbortController();
    // The store answers "spent, retry in a minute" only after the caller gave up meanwhile.
    const slow = { ...memory, tryAcquire: async (...args: Parameters<typeof memory.tryAcquire>) => {
      const attempt = await memory.tryAcquire(...args);
      if (!attempt.granted) controller.abort();
      return attempt;
    } };
    const limiter = createRateLimiter({ key: 'k', windows: [{ requests: 1, perMs: 60_000 }], store: slow, clock });
    await (await limiter.acquire(1)).settle();
    await expect(limiter.acquire(1, controller.signal)).rejects.toMatchObject({ code: 'X_ABORTED' });
    expect(clock.sleepers).toBe(0);
  });
});
