import type { RateLimitStore } from '../contract/rate-limit-store.js';
import { demandIn, emptyChargeLog, freesInIn, lowerIn, peekIn, refuseIn, settleIn, tryAcquireIn, type ChargeLog } from './charge-log.js';

/**
 * An in-process `RateLimitStore`: one sliding-window charge log per key (see `ChargeLog`), so
 * a request is granted only if, for every window, the charges in the last `perMs` plus this
 * one stay within `requests`. Sliding windows never let a burst straddle a boundary, so we
 * stay under the upstream's limit whichever way it counts (sliding or clock-aligned fixed).
 *
 * Atomic across windows: JavaScript runs each call synchronously, so no lock is needed in one
 * process; the file store takes a lock around the same code, Redis runs it as one Lua script.
 */
export function createMemoryRateLimitStore(): RateLimitStore {
  const logs = new Map<string, ChargeLog>();
  const logFor = (key: string): ChargeLog => {
    let log = logs.get(key);
    if (!log) logs.set(key, (log = emptyChargeLog()));
    return log;
  };

  return {
    async tryAcquire(key, windows, cost, now) {
      checkCost(cost);
      if (windows.length === 0) return { granted: true, chargeId: '0', remaining: [] };
      return tryAcquireIn(logFor(key), windows, cost, now);
    },
    async settle(key, windows, chargeId, now) {
      const log = logFor(key);
      settleIn(log, chargeId, now);
      return peekIn(log, windows, now);
    },
    async refuse(key, windows, chargeId, now, retryAfterMs) {
      return refuseIn(logFor(key), windows, chargeId, now, retryAfterMs);
    },
    async peek(key, windows, now) {
      return peekIn(logFor(key), windows, now);
    },
    async freesIn(key, windows, now) {
      return freesInIn(logFor(key), windows, now);
    },
    async demand(key, _windows, participant, units, now) {
      return demandIn(logFor(key), participant, units, now);
    },
    async lower(key, windows, window, requests, now) {
      lowerIn(logFor(key), windows, window, requests, now);
    },
    async reset(key) {
      logs.delete(key);
    },
  };
}

/** Costs are whole units of the upstream's quota. */
export function checkCost(cost: number): void {
  if (!Number.isInteger(cost) || cost < 1) throw new RangeError(`Rate-limit cost must be a positive integer, got ${cost}`);
}
