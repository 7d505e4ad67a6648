import { randomUUID } from 'node:crypto';
import { XEnrichError, type CoalescingStore, type Logger } from '@x/core';
import type { Redis, Result } from 'ioredis';
import type { Availability } from './availability.js';
import type { KeyLayout } from './keys.js';

// Deletes the claim only if this process still holds it (it may have expired and been taken
// by another), marks the key as just fetched, then wakes the waiters.
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

// Claims the fetch unless another process fetched the key moments ago. The engine reads the
// cache, misses, then claims; in between, another process may have fetched, cached and
// released, and a plain SET NX would let this process fetch the same observable again.
// Refusing the claim while the "just fetched" marker lives sends the caller to `waitFor`,
// which returns at once, and then to the cache, where it finds the entry. The marker (not the
// cache entry itself) decides, so a `refresh` of an older entry still fetches.
const CLAIM_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  return 1
end
return 0
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    xEnrichClaim(claimKey: string, fetchedKey: string, token: string, ttlMs: number): Result<number, Context>;
    xEnrichReleaseClaim(claimKey: string, fetchedKey: string, token: string, channel: string, key: string, recentMs: number): Result<number, Context>;
  }
}

export interface CoalescingSettings {
  client: Redis;
  /** Creates the dedicated subscriber connection (pub/sub blocks a connection for anything else). */
  createSubscriber: () => Redis;
  keys: KeyLayout;
  availability: Availability;
  logger: Logger;
  pollMs: number;
  /** How long after a release a new claim on the same key is refused (the miss-then-claim race). */
  recentMs: number;
}

function abortError(signal: AbortSignal): XEnrichError {
  return new XEnrichError('X_ABORTED', 'The lookup was aborted.', { cause: signal.reason });
}

/**
 * A `CoalescingStore` on Redis, with the outage handling built in:
 * - `claim` is `SET claim:<key> <token> NX PX ttl`: one process in the fleet wins; it is refused
 *   for `recentMs` after another process released the key, so a process that missed the cache
 *   just before another filled it does not fetch again;
 * - `release` deletes the claim (if still ours), marks the key as just fetched and publishes
 *   the key on one channel;
 * - `waitFor` wakes on that message, and also polls every `pollMs` in case a message was lost
 *   in a reconnect; it resolves true once no claim is held (released, or expired because its
 *   holder died) and false after `timeoutMs`. It rejects with X_ABORTED when `signal` aborts.
 * While Redis is down under `fallback`, a process coalesces only with itself: `claim` is
 * always won and `waitFor` returns true at once (the caller looks in the cache and fetches).
 */
export function createRedisCoalescingStore(settings: CoalescingSettings): CoalescingStore & { close(): Promise<void> } {
  const { client, keys, availability, logger, pollMs, recentMs } = settings;
  if (typeof (client as unknown as Record<string, unknown>).xEnrichReleaseClaim !== 'function') {
    client.defineCommand('xEnrichClaim', { numberOfKeys: 2, lua: CLAIM_SCRIPT });
    client.defineCommand('xEnrichReleaseClaim', { numberOfKeys: 2, lua: RELEASE_SCRIPT });
  }
  const processToken = randomUUID();
  let sequence = 0;
  const tokens = new Map<string, string>();
  const waiters = new Map<string, Set<() => void>>();
  let subscriber: Redis | undefined;
  let subscribed: Promise<void> | undefined;

  function ensureSubscribed(): Promise<void> {
    if (subscribed) return subscribed;
    const sub = settings.createSubscriber();
    subscriber = sub;
    sub.on('error', (error: Error) => logger.debug({ reason: error.message }, 'Redis subscriber connection error'));
    sub.on('message', (_channel: string, key: string) => {
      const set = waiters.get(key);
      if (set) for (const wake of [...set]) wake();
    });
    // ioredis re-subscribes by itself after a reconnect, but only to channels whose SUBSCRIBE
    // succeeded once: if the first one failed (Redis down), try again on every `ready`. The poll
    // covers the gaps.
    let active = false;
    const subscribe = (): Promise<void> =>
      sub.subscribe(keys.releasedChannel()).then(
        () => {
          active = true;
        },
        (error: Error) => logger.debug({ reason: error.message }, 'Redis subscribe failed; waiting by polling until it succeeds'),
      );
    sub.on('ready', () => {
      if (!active) void subscribe();
    });
    subscribed = subscribe();
    return subscribed;
  }

  const claimExists = (key: string): Promise<boolean> =>
    availability.run(
      'coalescing.waitFor',
      async () => (await client.exists(keys.claim(key))) === 1,
      async () => false,
    );

  return {
    async claim(key, ttlMs) {
      return availability.run(
        'coalescing.claim',
        async () => {
          const token = `${processToken}:${++sequence}`;
          const won = (await client.xEnrichClaim(keys.claim(key), keys.fetched(key), token, Math.max(1, Math.ceil(ttlMs)))) === 1;
          if (won) tokens.set(key, token);
          return won;
        },
        async () => true,
      );
    },

    async waitFor(key, timeoutMs, signal) {
      if (signal?.aborted) throw abortError(signal);
      if (!availability.usable) return !(await claimExists(key)); // falls back or refuses at once
      // Bounded: a subscription that cannot be set up must not eat the caller's wait.
      await Promise.race([ensureSubscribed(), new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, timeoutMs)).unref())]);

      return new Promise<boolean>((resolve, reject) => {
        let settled = false;
        let checking = false;
        // A wake (release message, poll tick) that arrives while a check is in flight must not be
        // dropped: that check's EXISTS may have been answered before the release, and then nothing
        // would look again until the next poll. Run one more check once the current one returns.
        let again = false;
        const finish = (outcome: boolean | Error): void => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          clearInterval(poll);
          signal?.removeEventListener('abort', onAbort);
          const set = waiters.get(key);
          set?.delete(check);
          if (set?.size === 0) waiters.delete(key);
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        };
        const check = (): void => {
          if (settled) return;
          if (checking) {
            again = true;
            return;
          }
          checking = true;
          again = false;
          claimExists(key).then(
            (exists) => {
              checking = false;
              if (!exists) finish(true);
              else if (again) check();
            },
            (error: Error) => finish(error),
          );
        };
        const onAbort = (): void => finish(abortError(signal as AbortSignal));
        const deadline = setTimeout(() => finish(false), timeoutMs);
        const poll = setInterval(check, pollMs);
        signal?.addEventListener('abort', onAbort, { once: true });
        let set = waiters.get(key);
        if (!set) waiters.set(key, (set = new Set()));
        set.add(check);
        if (signal?.aborted) onAbort(); // aborted while the subscription was being set up
        else check(); // the claim may already be gone
      });
    },

    async release(key) {
      const token = tokens.get(key);
      tokens.delete(key);
      await availability.run(
        'coalescing.release',
        async () => {
          await client.xEnrichReleaseClaim(keys.claim(key), keys.fetched(key), token ?? '', keys.releasedChannel(), key, recentMs);
        },
        async () => undefined,
      );
    },

    async close() {
      if (subscriber) subscriber.disconnect();
    },
  };
}
