import { redactUrlCredentials } from '@x/core';
import { Redis, type Command, type RedisOptions } from 'ioredis';

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
 * - a command timeout (`commandTimeoutMs`, see `StallTolerantRedis`): a server that accepts the
 *   connection but never answers (paused, swapping) still fails the command in bounded time;
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
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    // The stores decide what an unavailable Redis means; ioredis must not print anything itself.
    showFriendlyErrorStack: false,
  };
}

type WriteableStream = Parameters<Redis['sendCommand']>[1];

/** Commands whose deadline is armed (a command can pass through `sendCommand` again, from the offline queue). */
const armed = new WeakSet<Command>();

/**
 * ioredis with a command timeout that only counts time this process spent waiting for Redis.
 * ioredis's own `commandTimeout` timer runs in the event loop's timers phase, before pending
 * I/O is read: after this process did not run for longer than the timeout (a loaded machine, a
 * long GC pause), a reply that Redis sent in time is still unread, and the command fails as
 * "timed out". That marked Redis down for every store of the process (a fleet process then
 * refused a coalescing wait and fetched an observable another process was fetching). Here,
 * when the deadline passes, one round of I/O runs first (`setImmediate` comes after the poll
 * phase), and only a command still unanswered then times out.
 */
export class StallTolerantRedis extends Redis {
  // A plain field, not `#private`: ioredis may call `sendCommand` before this class's fields exist.
  private commandTimeoutMs: number | undefined;

  constructor(url: string, options: RedisOptions, commandTimeoutMs: number) {
    super(url, options);
    this.commandTimeoutMs = commandTimeoutMs;
  }

  override sendCommand(command: Command, stream?: WriteableStream): unknown {
    if (this.commandTimeoutMs !== undefined && !armed.has(command)) {
      armed.add(command);
      armDeadline(command, this.commandTimeoutMs);
    }
    return super.sendCommand(command, stream);
  }
}

function armDeadline(command: Command, ms: number): void {
  const timer = setTimeout(
    () =>
      setImmediate(() => {
        if (!command.isResolved) command.reject(new Error('Command timed out'));
      }),
    ms,
  );
  const clear = (): void => clearTimeout(timer);
  command.promise.then(clear, clear);
}

/** A client for the stores' commands. The caller must attach an `error` listener at once. */
export function createClient(settings: ConnectionSettings, overrides: Partial<RedisOptions> = {}): Redis {
  return new StallTolerantRedis(settings.url, { ...connectionOptions(settings), ...overrides }, settings.commandTimeoutMs);
}
