import { describe, expect, it } from 'vitest';
import { isXEnrichError } from '../contract/x-enrich-error.js';
import { captureLogger } from '../testing/capture.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { estimateBatchMs, windowsAt } from './estimate.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RateLimitStore } from '../contract/rate-limit-store.js';
import { DEMAND_TTL_MS } from '../contract/rate-limit-store.js';
import { createFileRateLimitStore } from './file-rate-limit-store.js';
import { createMemoryRateLimitStore } from './memory-rate-limit-store.js';
import { checkWindows, createRateLimiter, describeRate, fairShare } from './rate-limiter.js';

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
    expect(limiter.unlimited).toBe(true);
    expect(createRateLimiter({ key: 'k', windows: [{ requests: 2, perMs: 60_000 }], store: createMemoryRateLimitStore() }).unlimited).toBe(false);
  });

  it('rejects a limit that can never be met with one clear X_CONFIG_INVALID', async () => {
    expect(() => checkWindows([{ requests: 0, perMs: 60_000 }], 'providers.vt3.rateLimit')).toThrow(/can never be met/);
    expect(() => createRateLimiter({ key: 'k', windows: [{ requests: 1, perMs: 0 }], store: createMemoryRateLimitStore() })).toThrow(/can never be met/);
    const limiter = createRateLimiter({ key: 'k', windows: [{ requests: 2, perMs: 60_000 }], store: createMemoryRateLimitStore() });
    const error = await limiter.acquire(3).catch((e: unknown) => e);
    expect(isXEnrichError(error) && error.code).toBe('X_CONFIG_INVALID');
    expect((error as Error).message).toContain('costs 3 units');
  });

  it('shares a lowered budget: a second process sharing the store keeps to it at once and warns once', async () => {
    const clock = createFakeClock();
    const store = createMemoryRateLimitStore();
    const [loggerA, loggerB] = [captureLogger(), captureLogger()];
    const a = createRateLimiter({ key: 'vt', windows: [{ requests: 4, perMs: 60_000 }], store, clock, logger: loggerA });
    const b = createRateLimiter({ key: 'vt', windows: [{ requests: 4, perMs: 60_000 }], store, clock, logger: loggerB });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3; i++) await (await a.acquire()).settle();
      await (await a.acquire()).refused();
      await clock.advance(60_000);
    }
    // B never saw a refusal: it takes 3, not 4, in the next window.
    for (let i = 0; i < 3; i++) await (await b.acquire()).settle();
    let fourth = false;
    const pending = b.acquire().then(() => (fourth = true));
    await clock.advance(59_999);
    expect(fourth).toBe(false);
    await clock.advance(1);
    await pending;
    expect(b.snapshot().windows[0]).toMatchObject({ requests: 3 });
    expect(b.snapshot().loweredFrom).toEqual({ window: 0, configured: 4 });
    const warned = loggerB.lines.filter((r) => r.obj.code === 'X_WARN_QUOTA_LOWERED');
    expect(warned).toHaveLength(1);
    expect(warned[0]?.msg).toContain('configured 4/min, the upstream refuses above 3/min (seen by another process sharing this budget): every process sharing this budget keeps to 3/min');
    expect(loggerA.lines.filter((r) => r.obj.code === 'X_WARN_QUOTA_LOWERED')).toHaveLength(1);
  });

  it("publishes its demand and learns the others' (refresh), forgotten once a process stops publishing", async () => {
    const clock = createFakeClock();
    const store = createMemoryRateLimitStore();
    const windows = [{ requests: 8, perMs: 10_000 }];
    const [a, b, c] = [0, 1, 2].map(() => createRateLimiter({ key: 'vt', windows, store, clock }));
    await a!.refresh(14);
    await b!.refresh(14);
    const seen = await c!.refresh(14);
    expect(seen.othersDemand).toEqual([14, 14]);
    expect(seen.demand).toBe(14);
    // Three processes sharing 8 per 10 s, 14 each: each finishes with the fleet's 42nd request, not its own 14th.
    expect(estimateBatchMs({ lookups: 14, windows: windowsAt(seen, clock.now()), sharedWith: seen.othersDemand })).toBe(50_000);
    expect(estimateBatchMs({ lookups: 14, windows: windowsAt(seen, clock.now()) })).toBe(10_000);
    await b!.refresh(0); // b is done
    await clock.advance(DEMAND_TTL_MS); // a crashed: its entry lapses
    expect((await c!.refresh()).othersDemand).toEqual([]);
  });

  it('keeps to an equal share of the window while another limiter publishes a demand, and takes the whole window again once it withdraws', async () => {
    const clock = createFakeClock();
    const store = createMemoryRateLimitStore();
    const windows = [{ requests: 4, perMs: 1_000 }];
    const [a, b] = [0, 1].map(() => createRateLimiter({ key: 'vt', windows, store, clock })) as [ReturnType<typeof createRateLimiter>, ReturnType<typeof createRateLimiter>];
    await a.refresh(8);
    await b.refresh(8);
    await a.refresh();
    let granted = 0;
    const grants = [0, 1, 2].map(() => a.acquire().then(async (g) => ((granted += 1), g.settle())));
    await clock.advance(0);
    // A's share is ceil(4 / 2) = 2: its third request waits although the window has 2 left...
    expect(granted).toBe(2);
    // ... which B takes at once.
    await Promise.all([b.acquire(), b.acquire()]).then((gs) => Promise.all(gs.map((g) => g.settle())));
    await clock.advance(1_000);
    await Promise.all(grants);
    expect(granted).toBe(3);
    // B is done: once A reads that, it may take the whole window.
    await b.refresh(0);
    await a.refresh();
    await clock.advance(1_000);
    for (let i = 0; i < 4; i++) await (await a.acquire()).settle();
    expect(a.snapshot().windows[0]?.remaining).toBe(0);
  });

  it('shares a window fairly: equal shares, what a smaller demand leaves goes to the others', () => {
    expect(fairShare(8, [14, 14])).toBe(3);
    expect(fairShare(8, [14])).toBe(4);
    expect(fairShare(8, [1])).toBe(7);
    expect(fairShare(8, [1, 20])).toBe(4); // 1 for the small one, 7 left for two
    expect(fairShare(4, [0, 0])).toBe(4);
    expect(fairShare(1, [5, 5, 5])).toBe(1);
  });

  it('hands the units a window does not divide evenly to the largest demands, so the shares add up to the window', () => {
    expect(fairShare(8, [14, 14], 6)).toBe(2); // the two large demands get the 2 left over
    expect(fairShare(8, [6, 14], 14)).toBe(3);
    expect(fairShare(8, [14, 14], 14)).toBe(3); // a tie: nobody can tell who is first, all may try
    expect(fairShare(8, [12, 11], 11)).toBe(3); // 2 left over: one to the 12, one to both 11s
    expect(fairShare(8, [14], 14)).toBe(4);
    expect(fairShare(8, [1, 20], 20)).toBe(4);
  });

  it("a fleet's first process, which took the first window alone, finishes when its estimate said, whoever asks first when the window frees", async () => {
    // 8 per 10 s, 14 lookups each. A starts first and sees nobody: it takes the whole first
    // window. B and C publish 14 each 100 ms later; A's first refresh (t = 1 s) sees them. With
    // shares rounded up (3 + 3 + 3 for 8) A finished at 20 s or 30 s depending on who asked the
    // store first at 10 s: its ETA was off by a whole window (+50 %, +108 % in the bench).
    async function fleet(aFirst: boolean): Promise<{ estimateMs: number; finishedMs: number; ends: number[] }> {
      const clock = createFakeClock(0);
      const store = createMemoryRateLimitStore();
      const windows = [{ requests: 8, perMs: 10_000 }];
      const process = async (lookups: number, startAt: number, onRefreshed?: (limiter: ReturnType<typeof createRateLimiter>) => void) => {
        await clock.sleep(startAt);
        const limiter = createRateLimiter({ key: 'vt', windows, store, clock });
        let left = lookups;
        let queued = lookups;
        let done = false;
        await limiter.refresh(left);
        // Like the CLI: the demand still expected is published every second.
        const ticker = (async () => {
          while (!done) {
            await clock.sleep(1_000);
            if (done) break;
            await limiter.refresh(left);
            onRefreshed?.(limiter);
          }
        })();
        const worker = async (): Promise<void> => {
          while (queued > 0) {
            queued -= 1;
            await (await limiter.acquire()).settle();
            left -= 1;
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
        done = true;
        const end = clock.now();
        await limiter.refresh(0);
        await ticker;
        return end;
      };
      let estimateMs = Number.NaN;
      let estimatedAt = 0;
      const a = process(14, 0, (limiter) => {
        if (estimatedAt > 0) return;
        const seen = limiter.snapshot();
        const now = clock.now();
        estimateMs = estimateBatchMs({ lookups: seen.demand, windows: windowsAt(seen, now), sharedWith: seen.othersDemand, ...(seen.share ? { share: seen.share } : {}) });
        estimatedAt = now;
      });
      // Equal deadlines wake in the order the sleeps were made: this decides who asks first.
      const others = [process(14, 100), process(14, 100)];
      const all = aFirst ? [a, ...others] : [...others, a];
      const ends = Promise.all(all);
      while (await clock.next());
      const times = await ends;
      const aEnd = aFirst ? times[0]! : times[2]!;
      return { estimateMs, finishedMs: aEnd - estimatedAt, ends: times };
    }
    for (const aFirst of [true, false]) {
      const { estimateMs, finishedMs, ends } = await fleet(aFirst);
      // A: 8 at 0, then 2 a window (the two 14s get the 2 units left over) → its last at 30 s,
      // 29 s after its first refresh, as processor sharing says (its 6 + 6 of each other = the fleet's 18th request).
      expect(finishedMs).toBe(29_000);
      expect(estimateMs).toBe(29_000);
      // The fleet still spends the window at its full rate: 42 requests, the last in the 6th window.
      expect(Math.max(...ends)).toBe(50_000);
    }
  });

  it('processor sharing: a small demand among large ones finishes with the fleet, not after it', () => {
    const window = { requests: 4, perMs: 60_000, remaining: 4 };
    expect(estimateBatchMs({ lookups: 4, windows: [window], sharedWith: [20, 20] })).toBe(120_000); // 12 requests
    expect(estimateBatchMs({ lookups: 20, windows: [window], sharedWith: [4, 20] })).toBe(600_000); // 44 requests, 11 waves
  });

  it('serves waiters in arrival order, one asking the store at a time; an aborted waiter leaves its place', async () => {
    const clock = createFakeClock();
    const store = createMemoryRateLimitStore();
    let asked = 0;
    const counting = { ...store, tryAcquire: (...args: Parameters<typeof store.tryAcquire>) => ((asked += 1), store.tryAcquire(...args)) };
    const limiter = createRateLimiter({ key: 'k', windows: [{ requests: 1, perMs: 1_000 }], store: counting, clock });
    await (await limiter.acquire()).settle();
    const order: string[] = [];
    const controller = new AbortController();
    const b = limiter.acquire(1, controller.signal).then((g) => (order.push('b'), g.settle()), (e: unknown) => order.push(`b ${(e as { code?: string }).code}`));
    const c = limiter.acquire().then((g) => (order.push('c'), g.settle()));
    const d = limiter.acquire().then((g) => (order.push('d'), g.settle()));
    await clock.advance(0);
    asked = 0;
    await clock.advance(500);
    controller.abort();
    await clock.advance(500);
    await clock.advance(1_000);
    await Promise.all([b, c, d]);
    expect(order).toEqual(['b X_ABORTED', 'c', 'd']);
    // Only the head asks: c when b left (refused), c at 1 s, d right after (refused), d at 2 s;
    // three waiters polling side by side would have asked at every wake.
    expect(asked).toBe(4);
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

describe.each([
  ['memory', async () => ({ store: createMemoryRateLimitStore() as RateLimitStore, close: async () => undefined })],
  [
    'file',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'x-enrich-snapshot-'));
      return { store: createFileRateLimitStore({ dir }) as RateLimitStore, close: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
])('rate limiter snapshot (%s store)', (_name, open) => {
  it('knows the remaining budget synchronously after every grant, settle and refusal', async () => {
    const { store, close } = await open();
    try {
      const clock = createFakeClock();
      const limiter = createRateLimiter({ key: 'k', windows: [{ requests: 3, perMs: 60_000 }, { requests: 10, perMs: 86_400_000 }], store, clock });
      expect(limiter.snapshot()).toMatchObject({ at: 0, inFlight: 0, windows: [{ requests: 3, remaining: 3 }, { requests: 10, remaining: 10 }] });
      const first = await limiter.acquire();
      expect(limiter.snapshot()).toMatchObject({ at: clock.now(), inFlight: 1, windows: [{ remaining: 2 }, { remaining: 9 }] });
      await clock.advance(100);
      await first.settle();
      expect(limiter.snapshot()).toMatchObject({ at: clock.now(), inFlight: 0, windows: [{ remaining: 2 }, { remaining: 9 }] });
      // Another process spends the rest: the store's answer to our next grant says so.
      const other = createRateLimiter({ key: 'k', windows: [{ requests: 3, perMs: 60_000 }, { requests: 10, perMs: 86_400_000 }], store, clock });
      await (await other.acquire()).settle();
      const second = await limiter.acquire();
      expect(limiter.snapshot().windows.map((w) => w.remaining)).toEqual([0, 7]);
      await second.refused(5_000);
      // Refused: nothing is granted until Retry-After, whatever the windows hold.
      expect(limiter.snapshot().windows.map((w) => w.remaining)).toEqual([0, 0]);
      await clock.advance(60_100);
      const refreshed = await limiter.refresh();
      expect(refreshed.windows.map((w) => w.remaining)).toEqual([3, 8]);
      expect(refreshed.windows[0]?.freesInMs).toBe(60_000);
    } finally {
      await close();
    }
  });
});
