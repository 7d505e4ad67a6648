import { redactUrlCredentials } from '@x/core';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * The URL as it may appear in logs and errors: core's one URL redaction (the password, or a lone
 * user name, becomes `[REDACTED]`); a URL that does not parse is not shown at all.
 */
export function redactRedisUrl(url: string): string {
  return URL.canParse(url) ? redactUrlCredentials(url) : '(unparseable Redis URL)';
}

export interface ConnectionSettings {
  url: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

/**
 * ioredis settings chosen so a dead or frozen Redis can never make a lookup hang:
 * - `enableOfflineQueue: false`: while disconnected, a command fails at once instead of
 *   queueing until reconnection (the caller then falls back or refuses);
 * - `maxRetriesPerRequest: 0`: a command in flight when the connection drops fails instead of
 *   being replayed after reconnection (a replayed rate-limit charge could count twice);
 * - `commandTimeout`: a server that accepts the connection but never answers (paused, swapping)
 *   still fails the command in bounded time;
 * - `retryStrategy` never gives up: the client keeps reconnecting with capped backoff, and the
 *   stores switch back to Redis on the `ready` event.
 */
export function connectionOptions(settings: ConnectionSettings): RedisOptions {
  return {
    lazyConnect: false,
    // Commands issued in the same tick go out in one write: several times the throughput of
    // cached lookups under concurrency, at no cost to a lone command.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: settings.connectTimeoutMs,
    commandTimeout: settings.commandTimeoutMs,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    // The stores decide what an unavailable Redis means; ioredis must not print anything itself.
    showFriendlyErrorStack: false,
  };
}

/** A client for the stores' commands. The caller must attach an `error` listener at once. */
export function createClient(settings: ConnectionSettings): Redis {
  return new Redis(settings.url, connectionOptions(settings));
}
