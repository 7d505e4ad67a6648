import { systemClock, type Clock } from '../di/tokens.js';
import { formatDuration } from '../config/duration.js';
import { XEnrichError } from '../errors/x-enrich-error.js';
import type { RateLimitWindow } from '../plugin/manifest.js';
import type { RateLimitGrant, RateLimiter, RateLimitStore } from '../stores/rate-limit-store.js';
import { abortError } from './sleep.js';

export interface RateLimiterOptions {
  /** The budget's key in the store, usually the instance name. Processes sharing a store and key share the budget. */
  key: string;
  /** Every window is enforced at once; empty means unlimited. */
  windows: readonly RateLimitWindow[];
  store: RateLimitStore;
  clock?: Clock;
  /** Longest one `acquire` may wait in total; beyond it, it fails at once with X_RATE_LIMIT_EXHAUSTED. Default 5 minutes. */
  maxWaitMs?: number;
}

/** Until the limiter re-stamps charges (the quota issue), a grant that changes nothing. */
const STAMPED_AT_GRANT: RateLimitGrant = { settle: () => Promise.resolve(), refused: () => Promise.resolve() };

/** Describes a window for people: `4 per 1m`. */
function describeWindow(window: RateLimitWindow): string {
  return `${window.requests} per ${formatDuration(window.perMs)}`;
}

/**
 * A limiter for one provider instance over a `RateLimitStore`. `acquire` sleeps until the
 * store says budget returns and tries again, so a lookup waits instead of spending a request
 * the upstream would refuse; when the wait would exceed `maxWaitMs` (a spent day window) it
 * fails at once with `X_RATE_LIMIT_EXHAUSTED`, whose message says when budget returns.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { key, windows, store } = options;
  const clock = options.clock ?? systemClock;
  const maxWaitMs = options.maxWaitMs ?? 300_000;
  let waitedMs = 0;

  return {
    get waitedMs() {
      return waitedMs;
    },

    async acquire(cost = 1, signal?: AbortSignal) {
      if (windows.length === 0) return STAMPED_AT_GRANT;
      let waitedHere = 0;
      for (;;) {
        if (signal?.aborted) throw abortError(signal);
        const attempt = await store.tryAcquire(key, windows, cost, clock.now());
        if (attempt.granted) return STAMPED_AT_GRANT;
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
        try {
          await clock.sleep(attempt.retryAfterMs, signal);
        } finally {
          const slept = clock.now() - started;
          waitedHere += slept;
          waitedMs += slept;
        }
      }
    },

    async remaining() {
      const left = await store.peek(key, windows, clock.now());
      return windows.map((window, i) => ({ requests: window.requests, perMs: window.perMs, remaining: left[i] ?? 0 }));
    },
  };
}
