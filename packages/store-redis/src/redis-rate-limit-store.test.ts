import { createMemoryRateLimitStore, createRateLimiter, PENDING_CHARGE_LEASE_MS, PENDING_CHARGE_POLL_MS, type RateLimitAttempt } from '@x/core';
import { createFakeClock, runCacheStoreConformance, runRateLimitStoreConformance } from '@x/core/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStores, type RedisStores } from './index.js';
import { deleteKeys, inspector, randomPrefix, SHARED_REDIS_URL, sharedRedisAvailable } from '../test/helpers/redis.js';

const available = await sharedRedisAvailable();

const PER_MINUTE = { requests: 10, perMs: 60_000 };

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
    it('grants exactly 10 of 50 concurrent requests on a 10/min window shared by 3 connections (server clock)', async () => {
      const processes = [await open(), await open(), await open()];
      const attempts = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (processes[i % 3] as RedisStores).rateLimit.tryAcquire('vt3', [PER_MINUTE], 1, Date.now())),
      );
      expect(attempts.filter((attempt) => attempt.granted)).toHaveLength(10);
      expect(await processes[0]?.rateLimit.peek('vt3', [PER_MINUTE], Date.now())).toEqual([0]);
      // Charges in flight: every refusal polls for their settle instead of waiting a window.
      for (const attempt of attempts.filter((a): a is Extract<RateLimitAttempt, { granted: false }> => !a.granted)) {
        expect(attempt.window).toBe(0);
        expect(attempt.retryAfterMs).toBeGreaterThan(0);
        expect(attempt.retryAfterMs).toBeLessThanOrEqual(PENDING_CHARGE_POLL_MS);
      }
    });
  });

  describe('the Lua charge log', () => {
    it("gives the same answers as core's in-memory store for the same sequence of grants, settles and refusals", async () => {
      const stores = await open('caller');
      const memory = createMemoryRateLimitStore();
      const windows = [
        { requests: 3, perMs: 1_000 },
        { requests: 7, perMs: 5_000 },
      ];
      let seed = 42;
      const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      let now = 1_000_000;
      const inFlight: Array<{ redis: string; memory: string }> = [];
      const strip = (a: RateLimitAttempt) => (a.granted ? { granted: true, remaining: a.remaining } : a);
      for (let step = 0; step < 300; step++) {
        now += Math.floor(random() * 300);
        const action = random();
        if (action < 0.5 || inFlight.length === 0) {
          const cost = 1 + Math.floor(random() * 2);
          const [r, m] = [await stores.rateLimit.tryAcquire('eq', windows, cost, now), await memory.tryAcquire('eq', windows, cost, now)];
          expect(strip(r), `step ${step} at ${now}`).toEqual(strip(m));
          if (r.granted && m.granted) inFlight.push({ redis: r.chargeId, memory: m.chargeId });
        } else {
          const charge = inFlight.splice(Math.floor(random() * inFlight.length), 1)[0] as { redis: string; memory: string };
          if (action < 0.9) {
            await stores.rateLimit.settle('eq', windows, charge.redis, now);
            await memory.settle('eq', windows, charge.memory, now);
          } else {
            const retry = random() < 0.5 ? undefined : Math.floor(random() * 2_000);
            expect(await stores.rateLimit.refuse('eq', windows, charge.redis, now, retry), `refuse at step ${step}`).toEqual(await memory.refuse('eq', windows, charge.memory, now, retry));
          }
        }
      }
    });

    it('keeps at most `requests` log entries, expiring with the longest window plus the lease', async () => {
      const stores = await open();
      for (let i = 0; i < 30; i++) await stores.rateLimit.tryAcquire('k', [PER_MINUTE], 1, Date.now());
      const redis = inspector(SHARED_REDIS_URL);
      try {
        const key = `${prefix}rl:{k}:log`;
        expect(await redis.zcard(key)).toBe(10);
        expect(await redis.pttl(key)).toBeGreaterThan(60_000);
        expect(await redis.pttl(key)).toBeLessThanOrEqual(60_000 + PENDING_CHARGE_LEASE_MS);
      } finally {
        redis.disconnect();
      }
    });

    it('uses the Redis server clock by default, whatever `now` the caller passes (grants, settles and refusals)', async () => {
      const stores = await open('server');
      const window = { requests: 1, perMs: 60_000 };
      const grant = await stores.rateLimit.tryAcquire('k', [window], 1, 0);
      await stores.rateLimit.settle('k', [window], (grant as { chargeId: string }).chargeId, 0);
      // A caller whose clock is a year ahead must not see a free window.
      const attempt = await stores.rateLimit.tryAcquire('k', [window], 1, Date.now() + 365 * 86_400_000);
      expect(attempt.granted).toBe(false);
      expect((attempt as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(59_000);
    });
  });

  describe("under core's createRateLimiter", () => {
    it('two limiters in different processes share one budget and report it', async () => {
      const [a, b] = [await open(), await open()];
      const windows = [{ requests: 4, perMs: 60_000 }];
      const limiterA = createRateLimiter({ key: 'vt3', windows, store: a.rateLimit, maxWaitMs: 0 });
      const limiterB = createRateLimiter({ key: 'vt3', windows, store: b.rateLimit, maxWaitMs: 0 });
      await (await limiterA.acquire()).settle();
      await (await limiterB.acquire()).settle();
      await (await limiterA.acquire()).settle();
      expect(await limiterB.remaining()).toMatchObject([{ requests: 4, perMs: 60_000, remaining: 1 }]);
      await (await limiterB.acquire()).settle();
      await expect(limiterA.acquire()).rejects.toMatchObject({ code: 'X_RATE_LIMIT_EXHAUSTED' });
    });

    it("keeps each limiter's synchronous snapshot up to date from Redis's answers (grant, settle, refusal), and shares a lowered budget and demand", async () => {
      const [a, b] = [await open(), await open()];
      const windows = [{ requests: 4, perMs: 60_000 }];
      const limiterA = createRateLimiter({ key: 'vt3', windows, store: a.rateLimit, maxWaitMs: 0 });
      const limiterB = createRateLimiter({ key: 'vt3', windows, store: b.rateLimit, maxWaitMs: 0 });
      await (await limiterA.acquire()).settle();
      expect(limiterA.snapshot().windows[0]).toMatchObject({ requests: 4, remaining: 3 });
      const grant = await limiterB.acquire();
      expect(limiterB.snapshot()).toMatchObject({ inFlight: 1, windows: [{ remaining: 2 }] });
      await grant.settle();
      expect(limiterB.snapshot()).toMatchObject({ inFlight: 0, windows: [{ remaining: 2 }] });
      await (await limiterA.acquire()).refused(1_000);
      expect(limiterA.snapshot().windows[0]?.remaining).toBe(0);
      // A lowered budget written by one process is in force for the other's next grant.
      await b.rateLimit.lower!('vt3', windows, 0, 3, Date.now());
      await expect(limiterB.acquire()).rejects.toMatchObject({ code: 'X_RATE_LIMIT_EXHAUSTED' });
      expect(limiterB.snapshot()).toMatchObject({ windows: [{ requests: 3 }], loweredFrom: { window: 0, configured: 4 } });
      await limiterA.refresh(10);
      expect((await limiterB.refresh(5)).othersDemand).toEqual([10]);
    });

    it('waits for budget instead of failing when the window frees up soon', async () => {
      // On the caller's clock, which the test drives: the third request finds the window full
      // whatever the machine's load (on the wall clock, slow round trips could spread the
      // requests over more than the window, and then nothing waited).
      const stores = await open('caller');
      const clock = createFakeClock();
      const limiter = createRateLimiter({ key: 'vt3', windows: [{ requests: 2, perMs: 300 }], store: stores.rateLimit, clock, maxWaitMs: 5_000 });
      for (let i = 0; i < 2; i++) await (await limiter.acquire()).settle();
      let granted = false;
      let over = false; // granted, or failed (then `await third` says why)
      const third = limiter.acquire().then((grant) => ((granted = true), grant.settle()));
      third.then(() => (over = true), () => (over = true));
      // The store's answer (a Redis round trip) comes in real time; then the limiter sleeps on the clock.
      const storeAnswered = async (): Promise<void> => {
        while (clock.sleepers === 0 && !over) await new Promise((resolve) => setTimeout(resolve, 5));
      };
      await storeAnswered();
      await clock.advance(299);
      expect(granted).toBe(false);
      // Time moves only while the limiter sleeps, never while it waits for Redis.
      while (!over) {
        await clock.advance(1);
        await storeAnswered();
      }
      await third;
      expect(limiter.waitedMs).toBe(300);
    });
  });
});

if (available) {
  const conformancePrefixes: string[] = [];
  afterAll(async () => {
    for (const p of conformancePrefixes.splice(0)) await deleteKeys(SHARED_REDIS_URL, p);
  });
  const openRedis = async () => {
    const keyPrefix = randomPrefix();
    conformancePrefixes.push(keyPrefix);
    const opened: RedisStores[] = [];
    const connect = async () => {
      const stores = await createRedisStores({ url: SHARED_REDIS_URL, keyPrefix, onUnavailable: 'refuse', rateLimitClock: 'caller' });
      opened.push(stores);
      return stores;
    };
    const first = await connect();
    return { first, connect, close: async () => void (await Promise.all(opened.map((s) => s.close()))) };
  };
  // The same kit as core's memory and file stores: the Lua and JavaScript logs agree.
  runRateLimitStoreConformance({
    name: 'redis',
    open: async () => {
      const { first, connect, close } = await openRedis();
      return { store: first.rateLimit, another: async () => (await connect()).rateLimit, close };
    },
  });
  runCacheStoreConformance({
    name: 'redis',
    open: async () => {
      const { first, connect, close } = await openRedis();
      return { store: first.cache, another: async () => (await connect()).cache, close };
    },
  });
}
