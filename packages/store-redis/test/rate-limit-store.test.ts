import { createMemoryRateLimitStore, createRateLimiter, type RateLimitAttempt } from '@x/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStores, type RedisStores } from '../src/index.js';
import { deleteKeys, inspector, randomPrefix, SHARED_REDIS_URL, sharedRedisAvailable } from './helpers/redis.js';

const available = await sharedRedisAvailable();

const PER_MINUTE = { requests: 10, perMs: 60_000 };
const PER_DAY = { requests: 500, perMs: 86_400_000 };

describe.skipIf(!available)('Redis rate-limit store', () => {
  let prefix: string;
  const opened: RedisStores[] = [];
  const open = async (rateLimitClock: 'server' | 'caller' = 'server') => {
    const stores = await createRedisStores({ url: SHARED_REDIS_URL, keyPrefix: prefix, onUnavailable: 'refuse', rateLimitClock });
    opened.push(stores);
    return stores;
  };

  beforeEach(() => {
    prefix = randomPrefix();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((stores) => stores.close()));
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  describe('atomic across processes', () => {
    it('grants exactly 10 of 50 concurrent requests on a 10/min window shared by 3 connections', async () => {
      const processes = [await open(), await open(), await open()];
      const attempts = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (processes[i % 3] as RedisStores).rateLimit.tryAcquire('vt3', [PER_MINUTE], 1, Date.now())),
      );
      expect(attempts.filter((attempt) => attempt.granted)).toHaveLength(10);
      expect(await processes[0]?.rateLimit.peek('vt3', [PER_MINUTE], Date.now())).toEqual([0]);
      // Every refusal names the window and a wait within it.
      for (const attempt of attempts.filter((a): a is Extract<RateLimitAttempt, { granted: false }> => !a.granted)) {
        expect(attempt.window).toBe(0);
        expect(attempt.retryAfterMs).toBeGreaterThan(0);
        expect(attempt.retryAfterMs).toBeLessThanOrEqual(60_000);
      }
    });

    it('charges every window or none: a refusal by the minute window leaves the day window untouched', async () => {
      const stores = await open('caller');
      const minute = { requests: 2, perMs: 60_000 };
      const now = 1_000_000;
      expect(await stores.rateLimit.tryAcquire('vt3', [minute, PER_DAY], 1, now)).toEqual({ granted: true, remaining: [1, 499] });
      expect(await stores.rateLimit.tryAcquire('vt3', [minute, PER_DAY], 1, now + 10)).toEqual({ granted: true, remaining: [0, 498] });
      const refused = await stores.rateLimit.tryAcquire('vt3', [minute, PER_DAY], 1, now + 20);
      expect(refused).toEqual({ granted: false, window: 0, retryAfterMs: 60_000 - 20, remaining: [0, 498] });
      expect(await stores.rateLimit.peek('vt3', [minute, PER_DAY], now + 20)).toEqual([0, 498]);
    });

    it('names the window that blocks longest when several are spent', async () => {
      const stores = await open('caller');
      const second = { requests: 1, perMs: 1_000 };
      const hour = { requests: 2, perMs: 3_600_000 };
      await stores.rateLimit.tryAcquire('k', [second, hour], 1, 0);
      await stores.rateLimit.tryAcquire('k', [second, hour], 1, 5_000);
      const refused = await stores.rateLimit.tryAcquire('k', [second, hour], 1, 5_500);
      expect(refused).toMatchObject({ granted: false, window: 1, retryAfterMs: 3_600_000 - 5_500 });
    });
  });

  describe('sliding windows', () => {
    it('frees budget as charges age out of the window (caller clock)', async () => {
      const stores = await open('caller');
      const window = { requests: 3, perMs: 1_000 };
      for (const t of [0, 100, 200]) expect((await stores.rateLimit.tryAcquire('k', [window], 1, t)).granted).toBe(true);
      expect(await stores.rateLimit.tryAcquire('k', [window], 1, 999)).toMatchObject({ granted: false, retryAfterMs: 1 });
      expect(await stores.rateLimit.tryAcquire('k', [window], 1, 1_000)).toEqual({ granted: true, remaining: [0] });
      expect(await stores.rateLimit.peek('k', [window], 1_150)).toEqual([1]);
    });

    it('charges a cost of several units and waits until that many have aged out', async () => {
      const stores = await open('caller');
      const window = { requests: 4, perMs: 1_000 };
      expect(await stores.rateLimit.tryAcquire('k', [window], 3, 0)).toEqual({ granted: true, remaining: [1] });
      expect(await stores.rateLimit.tryAcquire('k', [window], 1, 300)).toEqual({ granted: true, remaining: [0] });
      // Needs 2: the 3 units charged at 0 must age out (at 1000).
      expect(await stores.rateLimit.tryAcquire('k', [window], 2, 500)).toMatchObject({ granted: false, retryAfterMs: 500 });
    });

    it('reports a cost that can never fit as an infinite wait', async () => {
      const stores = await open();
      const attempt = await stores.rateLimit.tryAcquire('k', [{ requests: 2, perMs: 1_000 }], 3, Date.now());
      expect(attempt).toMatchObject({ granted: false, window: 0, retryAfterMs: Number.POSITIVE_INFINITY });
    });

    it('gives the same answers as core\'s in-memory store for the same sequence', async () => {
      const stores = await open('caller');
      const memory = createMemoryRateLimitStore();
      const windows = [
        { requests: 3, perMs: 1_000 },
        { requests: 7, perMs: 5_000 },
      ];
      let seed = 42;
      const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      let now = 0;
      for (let step = 0; step < 300; step++) {
        now += Math.floor(random() * 400);
        const cost = 1 + Math.floor(random() * 2);
        expect(await stores.rateLimit.tryAcquire('eq', windows, cost, now), `step ${step} at ${now}`).toEqual(
          await memory.tryAcquire('eq', windows, cost, now),
        );
      }
    });

    it('keeps at most `requests` log entries per window, expiring with the window', async () => {
      const stores = await open();
      for (let i = 0; i < 30; i++) await stores.rateLimit.tryAcquire('k', [PER_MINUTE], 1, Date.now());
      const redis = inspector(SHARED_REDIS_URL);
      try {
        const key = `${prefix}rl:{k}:60000:10`;
        expect(await redis.zcard(key)).toBe(10);
        expect(await redis.pttl(key)).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
    });

    it('uses the Redis server clock by default, whatever `now` the caller passes', async () => {
      const stores = await open('server');
      const window = { requests: 1, perMs: 60_000 };
      await stores.rateLimit.tryAcquire('k', [window], 1, 0);
      // A caller whose clock is a year ahead must not see a free window.
      const attempt = await stores.rateLimit.tryAcquire('k', [window], 1, Date.now() + 365 * 86_400_000);
      expect(attempt.granted).toBe(false);
    });

    it('reset() forgets one key only', async () => {
      const stores = await open();
      await stores.rateLimit.tryAcquire('a', [PER_MINUTE], 5, Date.now());
      await stores.rateLimit.tryAcquire('b', [PER_MINUTE], 5, Date.now());
      await stores.rateLimit.reset?.('a');
      expect(await stores.rateLimit.peek('a', [PER_MINUTE], Date.now())).toEqual([10]);
      expect(await stores.rateLimit.peek('b', [PER_MINUTE], Date.now())).toEqual([5]);
    });

    it('rejects a cost that is not a positive integer', async () => {
      const stores = await open();
      await expect(stores.rateLimit.tryAcquire('k', [PER_MINUTE], 0, Date.now())).rejects.toThrow(/positive integer/);
    });
  });

  describe("under core's createRateLimiter", () => {
    it('two limiters in different processes share one budget and report it', async () => {
      const [a, b] = [await open(), await open()];
      const windows = [{ requests: 4, perMs: 60_000 }];
      const limiterA = createRateLimiter({ key: 'vt3', windows, store: a.rateLimit, maxWaitMs: 0 });
      const limiterB = createRateLimiter({ key: 'vt3', windows, store: b.rateLimit, maxWaitMs: 0 });
      await limiterA.acquire();
      await limiterB.acquire();
      await limiterA.acquire();
      expect(await limiterB.remaining()).toEqual([{ requests: 4, perMs: 60_000, remaining: 1 }]);
      await limiterB.acquire();
      await expect(limiterA.acquire()).rejects.toMatchObject({ code: 'X_RATE_LIMIT_EXHAUSTED' });
    });

    it('waits for budget instead of failing when the window frees up soon', async () => {
      const stores = await open();
      const limiter = createRateLimiter({ key: 'vt3', windows: [{ requests: 2, perMs: 300 }], store: stores.rateLimit, maxWaitMs: 5_000 });
      for (let i = 0; i < 5; i++) await limiter.acquire();
      expect(limiter.waitedMs).toBeGreaterThan(0);
    });
  });
});
