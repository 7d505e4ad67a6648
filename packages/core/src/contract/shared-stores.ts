import type { CacheStore } from './cache-store.js';
import type { CoalescingStore, RateLimitStore } from './rate-limit-store.js';

/**
 * Where a shared store's operations go now: `connecting` (start-up), `ready` (the shared
 * backend), `degraded` (unreachable; in-memory fallback), `unavailable` (unreachable; refused),
 * `closed`.
 */
export type SharedStoresStatus = 'connecting' | 'ready' | 'degraded' | 'unavailable' | 'closed';

/** Counters a host can export as metrics. */
export interface SharedStoresStats {
  status: SharedStoresStatus;
  /** Times the backend went from reachable (or starting) to unreachable. */
  outages: number;
  /** Operations served by the in-memory fallback stores. */
  fallbackOperations: number;
  /** Operations refused with X_STORE_UNAVAILABLE. */
  refusedOperations: number;
}

/**
 * Stores shared by every process of a fleet over one connection (`@x/store-redis`'s
 * `createRedisStores` returns these): what `openStores` asks its `openShared` for.
 */
export interface SharedStores {
  cache: CacheStore;
  rateLimit: RateLimitStore;
  coalescing: CoalescingStore;
  stats(): SharedStoresStats;
  /** Closes the connection; the stores refuse further operations. */
  close(): Promise<void>;
}
