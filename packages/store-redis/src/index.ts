/**
 * @x/store-redis: x-enrich's cache, rate-limit and coalescing stores on Redis, so several
 * processes share one cache and one upstream quota. Everything not exported here is private.
 */
export { createRedisStores, type RedisStores } from './create-redis-stores.js';
export { zRedisStoresOptions, zUnavailableBehaviour, type RedisStoresOptions } from './options.js';
export type { RedisStoresStats, RedisStoresStatus } from './availability.js';
