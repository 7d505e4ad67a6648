import * as z from 'zod';
import type { CacheStore, Logger, RateLimitStore } from '@x/core';

/** What the stores do while Redis is unreachable (core's config uses the same two words). */
export const zUnavailableBehaviour = z
  .enum(['fallback', 'refuse'])
  .describe('fallback: use in-memory stores with one warning until Redis returns; refuse: throw X_STORE_UNAVAILABLE.');

/**
 * Options of `createRedisStores`. Plain values are validated here; the logger and fallback
 * stores are objects the host passes as-is.
 */
export const zRedisStoresOptions = z
  .object({
    // So a host can pass core's `cache` / `rateLimitStore` config section as it is.
    store: z.literal('redis').optional().describe("Ignored; accepted so core's `{ store: 'redis', ... }` config sections can be passed unchanged."),
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .default('redis://127.0.0.1:6379')
      .describe('Redis URL; a password in it is never logged.'),
    keyPrefix: z
      .string()
      .min(1)
      .refine((prefix) => !/[{}]/.test(prefix), 'must not contain { or } (they are Redis Cluster hash tags)')
      .default('x-enrich:')
      .describe('Prefix of every key and channel, so several deployments can share one Redis.'),
    onUnavailable: zUnavailableBehaviour.default('fallback'),
    connectTimeoutMs: z.number().int().positive().default(2_000).describe('How long one connection attempt may take.'),
    commandTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(2_000)
      .describe('How long one command may take before the store treats Redis as unavailable (no hangs on a frozen server).'),
    startupWaitMs: z
      .number()
      .int()
      .nonnegative()
      .default(2_000)
      .describe('How long `createRedisStores` waits for the first connection before starting degraded.'),
    coalescePollMs: z
      .number()
      .int()
      .positive()
      .default(100)
      .describe('Safety-net poll interval of `waitFor`, besides the pub/sub wake-up (covers messages lost in a reconnect).'),
    coalesceRecentMs: z
      .number()
      .int()
      .positive()
      .default(2_000)
      .describe('After a process fetched a key, claims on it are refused this long, so a process that missed the cache just before it was filled waits for the cache instead of fetching again.'),
    rateLimitClock: z
      .enum(['server', 'caller'])
      .default('server')
      .describe("server: windows use Redis's TIME, so processes on machines with skewed clocks agree; caller: use the `now` passed in (tests with fake clocks)."),
    fallbackCacheEntries: z.number().int().positive().default(10_000).describe('Capacity of the in-memory fallback cache.'),
    logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null).optional(),
    fallback: z
      .object({
        cache: z.custom<CacheStore>().optional(),
        rateLimit: z.custom<RateLimitStore>().optional(),
      })
      .optional()
      .describe("Stores to use while Redis is down (default: core's in-memory stores)."),
  })
  .strict();

export type RedisStoresOptions = z.input<typeof zRedisStoresOptions>;
export type ResolvedRedisStoresOptions = z.output<typeof zRedisStoresOptions>;
