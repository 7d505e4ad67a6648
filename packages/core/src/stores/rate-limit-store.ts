import type { RateLimitWindow } from '../plugin/manifest.js';

/** The outcome of one attempt to take budget from every window of a limit at once. */
export type RateLimitAttempt =
  | { granted: true; remaining: number[] }
  /** `retryAfterMs`: when the soonest-blocking window frees budget. `window`: the index of the window that blocked. */
  | { granted: false; retryAfterMs: number; window: number; remaining: number[] };

/**
 * Counts requests against several windows at once (e.g. 4/min and 500/day) for one key.
 * `tryAcquire` is atomic across the windows: either every window is charged or none is.
 * The in-memory store lives in core; @x/store-redis shares one budget between processes.
 */
export interface RateLimitStore {
  tryAcquire(key: string, windows: readonly RateLimitWindow[], cost: number, now: number): Promise<RateLimitAttempt>;
  /** Remaining budget per window, without charging. */
  peek(key: string, windows: readonly RateLimitWindow[], now: number): Promise<number[]>;
  reset?(key: string): Promise<void>;
  close?(): Promise<void>;
}

/** A per-instance limiter built on a store: waits for budget, fails fast when the wait is too long. */
export interface RateLimiter {
  /**
   * Resolves once `cost` units were charged. Waits while budget frees up; rejects with
   * `X_RATE_LIMIT_EXHAUSTED` at once when the wait would exceed the configured maximum
   * (a spent day window), and with `X_ABORTED` when `signal` aborts.
   */
  acquire(cost?: number, signal?: AbortSignal): Promise<RateLimitGrant>;
  /** Remaining budget per configured window. */
  remaining(): Promise<Array<{ requests: number; perMs: number; remaining: number }>>;
  /** Total time spent waiting for budget (ms), for progress bars and metrics. */
  readonly waitedMs: number;
}

/**
 * The charge `acquire` took. An upstream counts a request when it arrives, which is after the
 * limiter granted it; so the caller reports back once the answer is in:
 * - `settle()`: answered (any outcome but a quota refusal, including network errors and
 *   timeouts, which may have arrived). The charge now counts from this moment, the latest
 *   one at which the upstream can have counted it.
 * - `refused(retryAfterMs)`: the upstream refused it for quota. The limiter treats the window as
 *   full until `retryAfterMs` (when the upstream said) or until the oldest charge leaves it; the
 *   caller then calls `acquire` again, without spending a retry attempt.
 * Calling neither leaves the charge stamped at grant time.
 */
export interface RateLimitGrant {
  settle(): Promise<void>;
  refused(retryAfterMs?: number): Promise<void>;
}

/**
 * Cross-process in-flight coalescing (optional; in-process coalescing is always on).
 * While one process fetches a key, others wait for its result instead of calling upstream.
 */
export interface CoalescingStore {
  /** Try to become the fetcher for `key` for at most `ttlMs`. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Wait up to `timeoutMs` for the fetcher to publish; resolves false on timeout. */
  waitFor(key: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Release the claim and wake waiters (after the result is in the cache, or on failure). */
  release(key: string): Promise<void>;
}
