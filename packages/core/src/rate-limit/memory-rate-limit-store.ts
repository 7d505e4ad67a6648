import type { RateLimitWindow } from '../plugin/manifest.js';
import type { RateLimitAttempt, RateLimitStore } from '../stores/rate-limit-store.js';

/**
 * One window's sliding log: when each charge happened and how much it cost. It never holds
 * more entries than the window allows requests (each entry costs at least 1), so memory is
 * bounded by the configured limits, not by traffic.
 */
interface WindowLog {
  times: number[];
  costs: number[];
  head: number;
  used: number;
}

function prune(log: WindowLog, windowStart: number): void {
  while (log.head < log.times.length && (log.times[log.head] as number) <= windowStart) {
    log.used -= log.costs[log.head] as number;
    log.head++;
  }
  // Compact now and then so the arrays do not grow with the number of charges ever made.
  if (log.head > 64 && log.head * 2 > log.times.length) {
    log.times = log.times.slice(log.head);
    log.costs = log.costs.slice(log.head);
    log.head = 0;
  }
}

/** How long until `needed` units fall out of the window (Infinity if the window can never hold them). */
function waitFor(log: WindowLog, window: RateLimitWindow, needed: number, now: number): number {
  if (needed > window.requests) return Number.POSITIVE_INFINITY;
  let freed = 0;
  const excess = log.used + needed - window.requests;
  for (let i = log.head; i < log.times.length; i++) {
    freed += log.costs[i] as number;
    if (freed >= excess) return Math.max(1, (log.times[i] as number) + window.perMs - now);
  }
  return window.perMs;
}

/**
 * An in-process `RateLimitStore` using a sliding-window log per window: a request is granted
 * only if, for every window, the charges in the last `perMs` plus this one stay within
 * `requests`. Sliding (rather than fixed, clock-aligned) windows never let a burst straddle a
 * window boundary, so we stay under the upstream's limit whichever way it counts.
 *
 * Atomic across windows: every window is checked first and charged only if all have budget.
 * JavaScript runs this synchronously, so no lock is needed in one process; a shared store
 * (Redis) does the same check-then-charge in one Lua script.
 */
export function createMemoryRateLimitStore(): RateLimitStore {
  const keys = new Map<string, Map<number, WindowLog>>();

  function logsFor(key: string, windows: readonly RateLimitWindow[], now: number): WindowLog[] {
    let byWindow = keys.get(key);
    if (!byWindow) {
      byWindow = new Map();
      keys.set(key, byWindow);
    }
    return windows.map((window) => {
      // Windows are identified by length and size, so a config change starts a fresh log.
      const id = window.perMs * 1e9 + window.requests;
      let log = byWindow.get(id);
      if (!log) {
        log = { times: [], costs: [], head: 0, used: 0 };
        byWindow.set(id, log);
      }
      prune(log, now - window.perMs);
      return log;
    });
  }

  return {
    async tryAcquire(key, windows, cost, now): Promise<RateLimitAttempt> {
      const logs = logsFor(key, windows, now);
      let blocked = -1;
      let retryAfterMs = 0;
      windows.forEach((window, i) => {
        const log = logs[i] as WindowLog;
        if (log.used + cost > window.requests) {
          const wait = waitFor(log, window, cost, now);
          // Report the longest wait: only then does every window have budget again.
          if (wait > retryAfterMs) {
            retryAfterMs = wait;
            blocked = i;
          }
        }
      });
      if (blocked >= 0) {
        return { granted: false, retryAfterMs, window: blocked, remaining: windows.map((w, i) => Math.max(0, w.requests - (logs[i] as WindowLog).used)) };
      }
      for (const log of logs) {
        log.times.push(now);
        log.costs.push(cost);
        log.used += cost;
      }
      return { granted: true, remaining: windows.map((w, i) => w.requests - (logs[i] as WindowLog).used) };
    },

    async peek(key, windows, now) {
      const logs = logsFor(key, windows, now);
      return windows.map((w, i) => Math.max(0, w.requests - (logs[i] as WindowLog).used));
    },

    async reset(key) {
      keys.delete(key);
    },
  };
}
