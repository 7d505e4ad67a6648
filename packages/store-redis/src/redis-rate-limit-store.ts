import { DEMAND_TTL_MS, LOWERED_BUDGET_TTL_MS, PENDING_CHARGE_LEASE_MS, PENDING_CHARGE_POLL_MS, type RateLimitAttempt, type RateLimitStore, type RateLimitWindow } from '@x/core';
import type { Redis, Result } from 'ioredis';
import type { KeyLayout } from './keys.js';
import { SLIDING_WINDOW_SCRIPT } from './sliding-window-script.js';

type ScriptReply = Array<number | string>;

// ioredis runs defined commands with EVALSHA and falls back to EVAL on NOSCRIPT, so a Redis
// restart (which flushes the script cache) needs no handling here.
const COMMAND = 'xEnrichChargeLog';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    xEnrichChargeLog(numberOfKeys: number, ...args: Array<string | number>): Result<ScriptReply, Context>;
  }
}

type Mode = 'acquire' | 'peek' | 'settle' | 'refuse' | 'frees' | 'demand' | 'lower';

/**
 * A `RateLimitStore` on Redis only (no fallback: `createRedisStores` adds that): core's charge
 * log in one Lua script per operation (see SLIDING_WINDOW_SCRIPT), so grants, re-stamps and
 * refusals are atomic for the whole fleet. `clock: 'server'` ignores the caller's `now` and
 * uses Redis's TIME inside the script for every operation, so a charge granted on one machine
 * and settled on another... or processes whose clocks disagree still share one consistent log.
 */
export function createRedisRateLimitStore(client: Redis, keys: KeyLayout, clock: 'server' | 'caller'): RateLimitStore {
  if (typeof (client as unknown as Record<string, unknown>)[COMMAND] !== 'function') client.defineCommand(COMMAND, { lua: SLIDING_WINDOW_SCRIPT });

  function run(mode: Mode, key: string, windows: readonly RateLimitWindow[], now: number, extra: { cost?: number; chargeId?: string; retryAfterMs?: number } = {}): Promise<ScriptReply> {
    const args = windows.flatMap((window) => [window.requests, window.perMs]);
    const nowArg = clock === 'server' ? '' : Math.floor(now);
    const retry = extra.retryAfterMs !== undefined && Number.isFinite(extra.retryAfterMs) && extra.retryAfterMs >= 0 ? Math.ceil(extra.retryAfterMs) : '';
    return client.xEnrichChargeLog(
      5,
      keys.rateLog(key),
      keys.rateSequence(key),
      keys.rateBlocked(key),
      keys.rateLowered(key),
      keys.rateDemand(key),
      mode,
      extra.cost ?? 0,
      nowArg,
      extra.chargeId ?? '',
      retry,
      PENDING_CHARGE_LEASE_MS,
      PENDING_CHARGE_POLL_MS,
      ...args,
    );
  }

  /** The requests in force the script appends after `count` values when a lowered budget applies. */
  const limitsOf = (rest: Array<number | string>, count: number): { limits?: number[] } => (rest.length >= 2 * count && count > 0 ? { limits: rest.slice(count, 2 * count).map(Number) } : {});

  return {
    async tryAcquire(key, windows, cost, now): Promise<RateLimitAttempt> {
      if (!Number.isInteger(cost) || cost < 1) throw new RangeError(`Rate-limit cost must be a positive integer, got ${cost}`);
      if (windows.length === 0) return { granted: true, chargeId: '0:0', remaining: [] };
      const [granted, retryAfterMs, window, chargeId, ...rest] = await run('acquire', key, windows, now, { cost });
      const left = rest.slice(0, windows.length).map(Number);
      const limits = limitsOf(rest, windows.length);
      if (Number(granted) === 1) return { granted: true, chargeId: String(chargeId), remaining: left, ...limits };
      return { granted: false, retryAfterMs: Number(retryAfterMs) === -1 ? Number.POSITIVE_INFINITY : Number(retryAfterMs), window: Number(window), remaining: left, ...limits };
    },

    async settle(key, windows, chargeId, now) {
      if (windows.length === 0 || !chargeId.includes(':')) return [];
      const [, , , , ...rest] = await run('settle', key, windows, now, { chargeId });
      return rest.slice(0, windows.length).map(Number);
    },

    async refuse(key, windows, chargeId, now, retryAfterMs) {
      if (windows.length === 0) return { blockedUntil: now, used: [] };
      const [blockedUntil, ...rest] = await run('refuse', key, windows, now, { chargeId: chargeId.includes(':') ? chargeId : '0:0', retryAfterMs });
      return { blockedUntil: Number(blockedUntil), used: rest.slice(0, windows.length).map(Number), ...limitsOf(rest, windows.length) };
    },

    async peek(key, windows, now) {
      if (windows.length === 0) return [];
      const [, , , , ...rest] = await run('peek', key, windows, now);
      return rest.slice(0, windows.length).map(Number);
    },

    async freesIn(key, windows, now) {
      if (windows.length === 0) return [];
      return (await run('frees', key, windows, now)).map(Number);
    },

    async demand(key, windows, participant, units, now) {
      const others = await run('demand', key, windows, now, { cost: Math.max(0, Math.ceil(units)), chargeId: participant, retryAfterMs: DEMAND_TTL_MS });
      return others.map(Number);
    },

    async lower(key, windows, window, requests, now) {
      if (windows.length === 0) return;
      await run('lower', key, windows, now, { cost: window, chargeId: String(requests), retryAfterMs: LOWERED_BUDGET_TTL_MS });
    },

    async reset(key) {
      let cursor = '0';
      do {
        const [next, found] = await client.scan(cursor, 'MATCH', keys.ratePattern(key), 'COUNT', 1000);
        cursor = next;
        if (found.length > 0) await client.unlink(...found);
      } while (cursor !== '0');
    },
  };
}
