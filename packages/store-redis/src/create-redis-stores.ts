import {
  createMemoryCacheStore,
  createMemoryRateLimitStore,
  silentLogger,
  ValidationError,
  XEnrichError,
  type CacheStore,
  type CacheEntry,
  type CoalescingStore,
  type RateLimitStore,
} from '@x/core';
import { once } from 'node:events';
import { Availability, type RedisStoresStats, type RedisStoresStatus } from './availability.js';
import { createClient, redactRedisUrl } from './connection.js';
import { KeyLayout } from './keys.js';
import { zRedisStoresOptions, type RedisStoresOptions } from './options.js';
import { createRedisCacheStore } from './redis-cache-store.js';
import { createRedisCoalescingStore } from './redis-coalescing-store.js';
import { createRedisRateLimitStore } from './redis-rate-limit-store.js';

/** The stores `createRedisStores` returns; pass them to core's `createEnricher`. */
export interface RedisStores {
  cache: CacheStore;
  rateLimit: RateLimitStore;
  coalescing: CoalescingStore;
  /** Where operations go now (`ready`: Redis; `degraded`: in-memory fallback; `unavailable`: refused). */
  status(): RedisStoresStatus;
  /** Outage and fallback counters, for metrics. */
  stats(): RedisStoresStats;
  /** Closes the Redis connections; the stores refuse further operations. */
  close(): Promise<void>;
}

/**
 * Connects to Redis and returns a cache, a rate-limit store and a coalescing store shared by
 * every process that uses the same Redis and `keyPrefix`.
 *
 * Resolves once connected, or after `startupWaitMs` even if Redis is unreachable (then the
 * stores start degraded and switch to Redis when it comes up): it never rejects for
 * connectivity, only for invalid options (`X_CONFIG_INVALID`). While Redis is unreachable,
 * `onUnavailable: 'fallback'` serves from in-memory stores (one `X_WARN_STORE_FALLBACK`
 * warning per outage; budgets are then per process), `'refuse'` throws `X_STORE_UNAVAILABLE`
 * at once. No operation waits on a dead connection for more than `commandTimeoutMs`.
 */
export async function createRedisStores(input: RedisStoresOptions = {}): Promise<RedisStores> {
  const parsed = zRedisStoresOptions.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(
      'X_CONFIG_INVALID',
      'Invalid @x/store-redis options',
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  const options = parsed.data;
  const where = redactRedisUrl(options.url);
  const logger = (options.logger ?? silentLogger).child({ component: 'store-redis' });
  const keys = new KeyLayout(options.keyPrefix);
  const settings = { url: options.url, connectTimeoutMs: options.connectTimeoutMs, commandTimeoutMs: options.commandTimeoutMs };

  const client = createClient(settings);
  const availability = new Availability(client, options.onUnavailable, logger, where);

  const fallbackCache = options.fallback?.cache ?? createMemoryCacheStore({ maxEntries: options.fallbackCacheEntries });
  const fallbackRateLimit = options.fallback?.rateLimit ?? createMemoryRateLimitStore();

  const redisCache = createRedisCacheStore(client, keys, logger);
  const redisRateLimit = createRedisRateLimitStore(client, keys, options.rateLimitClock);
  const coalescing = createRedisCoalescingStore({
    client,
    // The subscriber may queue its SUBSCRIBE until connected: nothing waits on it unbounded.
    createSubscriber: () => createClient(settings, { enableOfflineQueue: true }),
    keys,
    availability,
    logger,
    pollMs: options.coalescePollMs,
    recentMs: options.coalesceRecentMs,
  });

  const cache: CacheStore = {
    get: <T>(key: string) =>
      availability.run<CacheEntry<T> | undefined>('cache.get', () => redisCache.get<T>(key), () => fallbackCache.get<T>(key)),
    set: (key, entry) => availability.run('cache.set', () => redisCache.set(key, entry), () => fallbackCache.set(key, entry)),
    delete: (key) => availability.run('cache.delete', () => redisCache.delete(key), () => fallbackCache.delete(key)),
    clear: async () => {
      // Clear both: entries written during an outage must not reappear in the next one.
      await fallbackCache.clear();
      // Never report a clear that did not happen: with Redis down the shared entries remain.
      await availability.run('cache.clear', () => redisCache.clear(), async () => {
        throw new XEnrichError('X_STORE_UNAVAILABLE', `Redis at ${where} is unavailable: the shared cache was not cleared (only this process's fallback entries were). Retry when Redis is back.`, { retryable: true });
      });
    },
  };

  const rateLimit: RateLimitStore = {
    tryAcquire: (key, windows, cost, now) =>
      availability.run(
        'rateLimit.tryAcquire',
        () => redisRateLimit.tryAcquire(key, windows, cost, now),
        () => fallbackRateLimit.tryAcquire(key, windows, cost, now),
      ),
    peek: (key, windows, now) =>
      availability.run('rateLimit.peek', () => redisRateLimit.peek(key, windows, now), () => fallbackRateLimit.peek(key, windows, now)),
    // A charge granted by one side and settled by the other is unknown there and ignored: its
    // lease then ends it, so budget comes back later, never sooner.
    settle: (key, windows, chargeId, now) =>
      availability.run('rateLimit.settle', () => redisRateLimit.settle(key, windows, chargeId, now), () => fallbackRateLimit.settle(key, windows, chargeId, now)),
    freesIn: (key, windows, now) =>
      availability.run('rateLimit.freesIn', () => redisRateLimit.freesIn!(key, windows, now), () => fallbackRateLimit.freesIn?.(key, windows, now) ?? Promise.resolve(windows.map((w) => w.perMs))),
    refuse: (key, windows, chargeId, now, retryAfterMs) =>
      availability.run(
        'rateLimit.refuse',
        () => redisRateLimit.refuse(key, windows, chargeId, now, retryAfterMs),
        () => fallbackRateLimit.refuse(key, windows, chargeId, now, retryAfterMs),
      ),
    demand: (key, windows, participant, units, now) =>
      availability.run(
        'rateLimit.demand',
        () => redisRateLimit.demand!(key, windows, participant, units, now),
        () => fallbackRateLimit.demand?.(key, windows, participant, units, now) ?? Promise.resolve([]),
      ),
    lower: (key, windows, window, requests, now) =>
      availability.run(
        'rateLimit.lower',
        () => redisRateLimit.lower!(key, windows, window, requests, now),
        () => fallbackRateLimit.lower?.(key, windows, window, requests, now) ?? Promise.resolve(),
      ),
    reset: async (key) => {
      await fallbackRateLimit.reset?.(key);
      await availability.run('rateLimit.reset', async () => redisRateLimit.reset?.(key), async () => undefined);
    },
  };

  // Wait (bounded) for the first connection, so a healthy start is `ready` at once.
  if (client.status !== 'ready') {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), options.startupWaitMs);
    try {
      await once(client, 'ready', { signal: timeout.signal });
    } catch {
      // Not reachable yet: the Availability listener has marked the stores down (or will on the
      // first operation); ioredis keeps reconnecting in the background.
    } finally {
      clearTimeout(timer);
    }
  }

  let closing: Promise<void> | undefined;
  return {
    cache,
    rateLimit,
    coalescing,
    status: () => availability.status,
    stats: () => availability.stats(),
    close: () => {
      closing ??= (async () => {
        availability.close();
        await coalescing.close();
        if (client.status === 'ready') {
          // QUIT flushes replies in flight; bounded in case the server froze.
          await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
        }
        client.disconnect();
        await fallbackCache.close?.();
        await fallbackRateLimit.close?.();
      })();
      return closing;
    },
  };
}
