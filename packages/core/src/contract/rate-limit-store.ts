import type { RateLimitWindow } from './manifest.js';

/**
 * The outcome of one attempt to take budget from every window of a limit at once. A grant
 * carries `chargeId`, which `settle` and `refuse` name.
 */
export type RateLimitAttempt = (
  | { granted: true; chargeId: string; remaining: number[] }
  /**
   * `retryAfterMs`: when the blocking window frees budget (Infinity: the cost never fits).
   * `window`: the index of the window that blocked.
   */
  | { granted: false; retryAfterMs: number; window: number; remaining: number[] }
) & {
  /**
   * Requests per window in force, when a budget lowered by `lower` (in any process sharing the
   * store) applies to one of them; absent otherwise. The limiter adopts it and warns once.
   */
  limits?: number[];
};

/** What `refuse` recorded: until when the key is treated as full, and each window's charges at the refusal. */
export interface RateLimitRefusal {
  /** The key grants nothing before this time (store clock, ms since the epoch). */
  blockedUntil: number;
  /** Charges each window held when the upstream refused (the refused one excluded): what the upstream accepted. */
  used: number[];
  /** As in `RateLimitAttempt`: requests per window in force when a shared lowered budget applies. */
  limits?: number[];
}

/**
 * A charge that is granted but not answered yet counts as taken "now" for this long (its lease):
 * an in-flight request may arrive at the upstream at any moment until its answer is back, so it
 * must not age out of a window before it is settled. A process that dies with charges in flight
 * (nobody settles them) costs their budget for at most this long plus the window.
 */
export const PENDING_CHARGE_LEASE_MS = 60_000;

/**
 * While a window is blocked only by charges still in flight, a store returns at most this as
 * `retryAfterMs`: the answer (and the settle that re-stamps the charge) usually comes sooner
 * than the lease ends, perhaps in another process. The limiter also wakes at once when a settle
 * or refusal happens in its own process.
 */
export const PENDING_CHARGE_POLL_MS = 25;

/**
 * A participant's published demand (`RateLimitStore.demand`) is forgotten this long after it
 * was last published: a live limiter publishes again well before (the CLI every second), and
 * a crashed process's demand no longer lengthens the others' estimates after this.
 */
export const DEMAND_TTL_MS = 10_000;

/**
 * A budget lowered after repeated refusals (`RateLimitStore.lower`) holds this long after the
 * last refusal that confirmed it, for every process sharing the store; then the configured
 * budget is tried again (the other user of the key may have stopped).
 */
export const LOWERED_BUDGET_TTL_MS = 3_600_000;

/**
 * Counts requests against several windows at once (e.g. 4/min and 500/day) for one key, with
 * sliding-window logs of charges. `tryAcquire` is atomic across the windows: either every
 * window is charged or none is.
 *
 * A charge lives in three steps, because the upstream counts a request when it ARRIVES, which
 * is after the grant and before the answer:
 * 1. `tryAcquire` grants it; until it is settled it counts as taken at every moment (up to
 *    PENDING_CHARGE_LEASE_MS), so it never leaves a window while the request may still arrive.
 * 2. `settle` re-stamps it with the time the answer came back, the latest moment the upstream
 *    can have counted it; from then it leaves each window `perMs` after that time. Budget
 *    therefore never returns before the upstream's own window has let go of the request,
 *    whether the upstream counts arrivals in a sliding window or in clock-aligned fixed ones.
 * 3. Or `refuse` removes it (the upstream refused and did not count it) and treats the key as
 *    full until `retryAfterMs` from now, or else until the oldest charge leaves the shortest
 *    window, so no process sends another request into a window the upstream says is spent.
 *
 * Stores: in-memory (core), file-backed (core, for several CLI processes on one machine),
 * Redis (@x/store-redis, for a fleet). All are held to the same conformance kit
 * (`runRateLimitStoreConformance` in `@x/core/testing`). `now` is the caller's clock; a store
 * with its own clock (Redis TIME) may ignore it, consistently for every method.
 */
export interface RateLimitStore {
  tryAcquire(key: string, windows: readonly RateLimitWindow[], cost: number, now: number): Promise<RateLimitAttempt>;
  /**
   * Re-stamps a granted charge with `now` (the answer is in). Unknown or expired ids are ignored.
   * Core's stores and Redis resolve with the remaining budget per window after it (what the
   * limiter's synchronous `snapshot()` reports); a store may resolve with nothing.
   */
  settle(key: string, windows: readonly RateLimitWindow[], chargeId: string, now: number): Promise<number[] | void>;
  /** Removes a refused charge and blocks the key (see above). `retryAfterMs`: the upstream's Retry-After, if it said. */
  refuse(key: string, windows: readonly RateLimitWindow[], chargeId: string, now: number, retryAfterMs?: number): Promise<RateLimitRefusal>;
  /** Remaining budget per window, without charging (charges in flight count as spent). */
  peek(key: string, windows: readonly RateLimitWindow[], now: number): Promise<number[]>;
  /**
   * Per window, in how many ms the spent part starts to come back (its oldest charge leaves;
   * a whole window when nothing is spent or the oldest is in flight). Optional: estimates use it
   * to tell how soon a budget spent by a previous run returns.
   */
  freesIn?(key: string, windows: readonly RateLimitWindow[], now: number): Promise<number[]>;
  /**
   * Publishes how many units `participant` (one limiter; a random id per process and key) still
   * expects to spend on `key`, for DEMAND_TTL_MS from `now` (0 withdraws it), and resolves with
   * the live demands of every OTHER participant. Estimates use it: a process sharing a budget
   * with three others finishes later than its own demand alone says. Optional: without it, a
   * process estimates as if it were alone.
   */
  demand?(key: string, windows: readonly RateLimitWindow[], participant: string, units: number, now: number): Promise<number[]>;
  /**
   * Shares a lowered budget: from now on, for LOWERED_BUDGET_TTL_MS, window `window` of `key`
   * grants at most `requests` (for every process that configured the same window), and every
   * attempt reports it in `limits`. Optional: without it, each process lowers its own budget.
   */
  lower?(key: string, windows: readonly RateLimitWindow[], window: number, requests: number, now: number): Promise<void>;
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
  remaining(): Promise<Array<{ requests: number; perMs: number; remaining: number; freesInMs?: number }>>;
  /** Total time spent waiting for budget (ms), for progress bars and metrics. */
  readonly waitedMs: number;
  /**
   * True when the limiter has no windows: `acquire` grants at once, and its grant's `settle` and
   * `refused` do nothing. Core's upstream client then skips them (a request of an instance with
   * `rateLimit: false` spent four async steps and two events on them). Optional: a limiter that
   * leaves it out is asked for every request.
   */
  readonly unlimited?: boolean;
  /**
   * The budget as last known, synchronously (no store call): kept up to date from the store's
   * answer to every grant, settle and refusal, and by `refresh`. Core's limiter has it; a
   * hand-made limiter may not.
   */
  snapshot?(): QuotaSnapshot;
  /**
   * Asks the store for the budget (remaining, when the spent part frees, the other participants'
   * demand), publishes `demand` (units this limiter still expects to spend; omitted: the last
   * one published) and resolves with the new snapshot. Call it at least every few seconds while
   * a demand is published: an entry not published again within DEMAND_TTL_MS is forgotten.
   */
  refresh?(demand?: number): Promise<QuotaSnapshot>;
}

/** What a limiter knows of its budget without asking the store (`RateLimiter.snapshot`). */
export interface QuotaSnapshot {
  /**
   * Per window in force (a lowered budget shows its lowered `requests`): the remaining budget as
   * the store last answered, and when its spent part starts to come back (`freesInMs`, from
   * `at`; known after a `refresh`).
   */
  windows: Array<{ requests: number; perMs: number; remaining: number; freesInMs?: number }>;
  /** When the store last answered (clock ms); 0 when it never has. */
  at: number;
  /** Units this limiter published as its outstanding demand (0: none). */
  demand: number;
  /** The live demands of the other limiters sharing the budget (other processes, other instances of a quota group), as of the last `refresh`. */
  othersDemand: number[];
  /** Grants of this limiter not settled or refused yet. */
  inFlight: number;
  /**
   * While others sharing the budget publish a demand, this limiter keeps to a fair share of the
   * shortest window (see `fairShare`): its size, what is left of it and when this limiter's
   * oldest charge leaves it. Estimates treat it as a window of this limiter's own.
   */
  share?: { requests: number; perMs: number; remaining: number; freesInMs: number };
  /** The configured requests of the lowered window, when the budget was lowered after refusals (here or in another process). */
  loweredFrom?: { window: number; configured: number };
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
 * Calling neither leaves the charge in flight until its lease (`PENDING_CHARGE_LEASE_MS`) ends.
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
