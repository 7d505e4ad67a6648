import { systemClock, type Clock } from '../contract/tokens.js';
import { formatDuration } from '../contract/duration.js';
import { XEnrichError } from '../contract/x-enrich-error.js';
import { silentLogger, type Logger } from '../contract/logger.js';
import type { RateLimitWindow } from '../contract/manifest.js';
import { PENDING_CHARGE_POLL_MS, type RateLimitGrant, type RateLimiter, type RateLimitStore } from '../contract/rate-limit-store.js';
import { shortestWindow } from './charge-log.js';
import { abortError } from '../contract/sleep.js';

export interface RateLimiterOptions {
  /**
   * The budget's key in the store: the instance name, or the quota group's name when several
   * instances spend one key's quota. Processes sharing a store and key share the budget.
   */
  key: string;
  /** Every window is enforced at once; empty means unlimited. */
  windows: readonly RateLimitWindow[];
  store: RateLimitStore;
  clock?: Clock;
  /** Longest one `acquire` may wait in total; beyond it, it fails at once with X_RATE_LIMIT_EXHAUSTED. Default 5 minutes. */
  maxWaitMs?: number;
  /** Where refusals and a lowered budget are reported (once per window, not per request). */
  logger?: Logger;
}

/** The budget key of a quota group (instances use their own name; this cannot clash with one: names have no ':'). */
export function quotaKey(group: string): string {
  return `quota:${group}`;
}

/** How often a waiter re-reads the store while this process's own charges are in flight (a local settle wakes it sooner). */
const LOCAL_FLIGHT_POLL_MS = 250;

/** Nothing to report back when there is no limit. */
const UNLIMITED: RateLimitGrant = { settle: () => Promise.resolve(), refused: () => Promise.resolve() };

/** Describes a window for people: `4 per 1m`. */
function describeWindow(window: RateLimitWindow): string {
  return `${window.requests} per ${formatDuration(window.perMs)}`;
}

/** A rate for people: `4/min`, `500/day`, `8 per 5s`. */
export function describeRate(requests: number, perMs: number): string {
  const units: Record<number, string> = { 1_000: 's', 60_000: 'min', 3_600_000: 'h', 86_400_000: 'day' };
  const unit = units[perMs];
  return unit ? `${requests}/${unit}` : `${requests} per ${formatDuration(perMs)}`;
}

/**
 * Throws X_CONFIG_INVALID when a limit can never be met: no requests, no window length, or a
 * cost larger than a window allows. Called at config load and by `acquire`, so a lookup fails
 * with one clear error instead of waiting forever.
 */
export function checkWindows(windows: readonly RateLimitWindow[], where: string, cost = 1): void {
  for (const window of windows) {
    if (!(Number.isInteger(window.requests) && window.requests >= 1) || !(window.perMs >= 1)) {
      throw new XEnrichError('X_CONFIG_INVALID', `${where}: the rate limit ${window.requests} per ${window.perMs} ms can never be met: a window needs at least 1 request and a length of at least 1ms.`);
    }
    if (cost > window.requests) {
      throw new XEnrichError('X_CONFIG_INVALID', `${where}: a request costs ${cost} units, more than the ${describeWindow(window)} window allows; raise the window's requests to at least ${cost}.`);
    }
  }
}

/**
 * A limiter for one budget key over a `RateLimitStore`. `acquire` sleeps until the store says
 * budget returns and tries again, so a lookup waits instead of spending a request the upstream
 * would refuse; when the wait would exceed `maxWaitMs` (a spent day window) it fails at once
 * with `X_RATE_LIMIT_EXHAUSTED`, whose message says when budget returns.
 *
 * The grant it returns closes the loop with the upstream (see `RateLimitStore`): `settle()`
 * re-stamps the charge when the answer is back, `refused()` removes it and blocks the key.
 * A refusal is logged once per blocked window (X_WARN_QUOTA_REFUSED). When refusals repeat
 * below the configured budget (another tool spends the same key, or the configured quota is
 * higher than the real one), the limiter lowers its own budget for the shortest window to what
 * the upstream accepted and warns once (X_WARN_QUOTA_LOWERED, "configured 4/min, the upstream
 * refuses above 3/min").
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { key, store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxWaitMs = options.maxWaitMs ?? 300_000;
  checkWindows(options.windows, `Rate limit "${key}"`);
  // The budget in force: the configured windows, with the shortest one lowered after repeated refusals.
  const windows: RateLimitWindow[] = options.windows.map((w) => ({ requests: w.requests, perMs: w.perMs }));
  const shortest = shortestWindow(windows);
  let waitedMs = 0;
  /** Sleepers blocked only by charges in flight: a settle in this process wakes them at once. */
  const waitingOnFlight = new Set<AbortController>();
  /** Grants of this limiter not yet settled or refused. */
  let inFlight = 0;
  let loggedUntil = 0;
  let refusalWindows = 0;
  let lowestAccepted = Number.POSITIVE_INFINITY;
  let lowered = false;

  const wakeFlightWaiters = (): void => {
    for (const waiter of waitingOnFlight) waiter.abort();
    waitingOnFlight.clear();
  };

  function onRefusal(used: number[], blockedUntil: number, retryAfterMs: number | undefined, now: number): void {
    const window = windows[shortest] as RateLimitWindow;
    const configured = options.windows[shortest] as RateLimitWindow;
    const accepted = used[shortest] ?? 0;
    if (now < loggedUntil) {
      // The same blocked window: already said.
      lowestAccepted = Math.min(lowestAccepted, accepted);
      return;
    }
    loggedUntil = blockedUntil;
    logger.warn(
      { code: 'X_WARN_QUOTA_REFUSED', key, accepted, window: describeRate(window.requests, window.perMs), retryAfterMs, until: new Date(blockedUntil).toISOString() },
      `the upstream refused a request for quota after ${accepted} in the last ${formatDuration(window.perMs)}; no request is sent before ${new Date(blockedUntil).toISOString()}, and the refused ones wait for budget again`,
    );
    if (accepted >= window.requests) return; // refused at our own budget: our window is the upstream's
    lowestAccepted = Math.min(lowestAccepted, accepted);
    refusalWindows += 1;
    if (refusalWindows < 2) return; // once can be another tool's burst; twice is the real quota
    const lowerTo = Math.max(1, lowestAccepted);
    if (lowerTo >= window.requests) return;
    window.requests = lowerTo;
    if (lowered) return;
    lowered = true;
    logger.warn(
      { code: 'X_WARN_QUOTA_LOWERED', key, configured: describeRate(configured.requests, configured.perMs), observed: describeRate(lowerTo, window.perMs) },
      `configured ${describeRate(configured.requests, configured.perMs)}, the upstream refuses above ${describeRate(lowerTo, window.perMs)}: this run keeps to ${describeRate(lowerTo, window.perMs)}. Configure the real quota (or give the other users of this key their own).`,
    );
  }

  function grantFor(chargeId: string): RateLimitGrant {
    let done = false;
    inFlight += 1;
    return {
      async settle() {
        if (done) return;
        done = true;
        inFlight -= 1;
        try {
          await store.settle(key, windows, chargeId, clock.now());
        } catch (error) {
          // The charge stays in flight until its lease ends: budget returns later, never sooner.
          logger.warn({ err: error, key }, 'could not re-stamp a rate-limit charge; its budget returns when its lease ends');
        } finally {
          wakeFlightWaiters();
        }
      },
      async refused(retryAfterMs) {
        if (done) return;
        done = true;
        inFlight -= 1;
        const now = clock.now();
        try {
          const refusal = await store.refuse(key, windows, chargeId, now, retryAfterMs);
          onRefusal(refusal.used, refusal.blockedUntil, retryAfterMs, now);
        } catch (error) {
          logger.warn({ err: error, key }, 'could not record a quota refusal in the rate-limit store');
        } finally {
          wakeFlightWaiters();
        }
      },
    };
  }

  return {
    get waitedMs() {
      return waitedMs;
    },

    async acquire(cost = 1, signal?: AbortSignal) {
      if (windows.length === 0) return UNLIMITED;
      checkWindows(options.windows, `Rate limit "${key}"`, cost);
      let waitedHere = 0;
      for (;;) {
        if (signal?.aborted) throw abortError(signal);
        const attempt = await store.tryAcquire(key, windows, cost, clock.now());
        if (attempt.granted) return grantFor(attempt.chargeId);
        const window = windows[attempt.window] as RateLimitWindow;
        if (waitedHere + attempt.retryAfterMs > maxWaitMs) {
          const returns = Number.isFinite(attempt.retryAfterMs)
            ? `budget returns in ${formatDuration(Math.ceil(attempt.retryAfterMs / 1000) * 1000)} (at ${new Date(clock.now() + attempt.retryAfterMs).toISOString()})`
            : `a request costing ${cost} can never fit in this window`;
          throw new XEnrichError(
            'X_RATE_LIMIT_EXHAUSTED',
            `Rate limit ${describeWindow(window)} for "${key}" is spent: ${returns}, longer than the ${formatDuration(maxWaitMs)} a lookup may wait.`,
            { retryable: true, details: { key, window, retryAfterMs: attempt.retryAfterMs, maxWaitMs } },
          );
        }
        const started = clock.now();
        const wake = new AbortController();
        const onFlight = attempt.retryAfterMs <= PENDING_CHARGE_POLL_MS;
        let sleepMs = attempt.retryAfterMs;
        if (onFlight) {
          waitingOnFlight.add(wake);
          // Our own requests are in flight: their settle wakes us, so poll the store (for other
          // processes' charges) far less often than PENDING_CHARGE_POLL_MS.
          if (inFlight > 0) sleepMs = LOCAL_FLIGHT_POLL_MS;
        }
        const onAbort = (): void => wake.abort();
        // The signal may have aborted while the store was asked: a listener added now would never
        // fire, and the lookup would sleep out the whole wait (seen with the file store's slower calls).
        if (signal?.aborted) {
          waitingOnFlight.delete(wake);
          throw abortError(signal);
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          await clock.sleep(sleepMs, wake.signal);
        } catch (error) {
          if (signal?.aborted) throw abortError(signal);
          if (!wake.signal.aborted) throw error;
          // Woken by a settle in this process: try again now.
        } finally {
          signal?.removeEventListener('abort', onAbort);
          waitingOnFlight.delete(wake);
          const slept = clock.now() - started;
          waitedHere += slept;
          waitedMs += slept;
        }
      }
    },

    async remaining() {
      const now = clock.now();
      const [left, frees] = await Promise.all([store.peek(key, windows, now), store.freesIn?.(key, windows, now)]);
      return windows.map((window, i) => ({ requests: window.requests, perMs: window.perMs, remaining: left[i] ?? 0, ...(frees ? { freesInMs: frees[i] ?? window.perMs } : {}) }));
    },
  };
}
