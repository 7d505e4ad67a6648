import type { RateLimitAttempt, RateLimitStore, RateLimitWindow } from '@x/core';
import type { Redis, Result } from 'ioredis';
import type { KeyLayout } from './keys.js';
import { SLIDING_WINDOW_SCRIPT } from './sliding-window-script.js';

type ScriptReply = [granted: number, retryAfterMs: number, window: number, ...remaining: number[]];

// ioredis runs defined commands with EVALSHA and falls back to EVAL on NOSCRIPT, so a Redis
// restart (which flushes the script cache) needs no handling here.
const COMMAND = 'xEnrichSlidingWindow';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    xEnrichSlidingWindow(numberOfKeys: number, ...args: Array<string | number>): Result<ScriptReply, Context>;
  }
}

/**
 * A `RateLimitStore` on Redis only (no fallback: `createRedisStores` adds that).
 * `clock: 'server'` ignores the caller's `now` and uses Redis's TIME inside the script, so
 * processes on machines whose clocks disagree still share one consistent window.
 */
export function createRedisRateLimitStore(client: Redis, keys: KeyLayout, clock: 'server' | 'caller'): RateLimitStore {
  if (typeof (client as unknown as Record<string, unknown>)[COMMAND] !== 'function') client.defineCommand(COMMAND, { lua: SLIDING_WINDOW_SCRIPT });

  async function run(mode: 'acquire' | 'peek', key: string, windows: readonly RateLimitWindow[], cost: number, now: number): Promise<ScriptReply> {
    const windowKeys = windows.map((window) => keys.rateWindow(key, window));
    const args = windows.flatMap((window) => [window.requests, window.perMs]);
    const nowArg = clock === 'server' ? '' : Math.floor(now);
    return client.xEnrichSlidingWindow(windowKeys.length + 1, ...windowKeys, keys.rateSequence(key), mode, cost, nowArg, ...args);
  }

  return {
    async tryAcquire(key, windows, cost, now): Promise<RateLimitAttempt> {
      if (windows.length === 0) return { granted: true, remaining: [] };
      if (!Number.isInteger(cost) || cost < 1) throw new RangeError(`Rate-limit cost must be a positive integer, got ${cost}`);
      const [granted, retryAfterMs, window, ...remaining] = await run('acquire', key, windows, cost, now);
      if (granted === 1) return { granted: true, remaining };
      return {
        granted: false,
        retryAfterMs: retryAfterMs === -1 ? Number.POSITIVE_INFINITY : retryAfterMs,
        window,
        remaining,
      };
    },

    async peek(key, windows, now) {
      if (windows.length === 0) return [];
      const [, , , ...remaining] = await run('peek', key, windows, 0, now);
      return remaining;
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
