import { XEnrichError, type Logger } from '@x/core';
import { ReplyError } from 'ioredis';
import type { Redis } from 'ioredis';

/**
 * - `connecting`: not connected yet (start-up);
 * - `ready`: operations go to Redis;
 * - `degraded`: Redis is unreachable and operations use the in-memory fallback stores;
 * - `unavailable`: Redis is unreachable and operations throw `X_STORE_UNAVAILABLE` (`refuse`);
 * - `closed`: `close()` was called.
 */
export type RedisStoresStatus = 'connecting' | 'ready' | 'degraded' | 'unavailable' | 'closed';

/** Counters a host can export as metrics. */
export interface RedisStoresStats {
  status: RedisStoresStatus;
  /** Times Redis went from reachable (or starting) to unreachable. */
  outages: number;
  /** Operations served by the in-memory fallback stores (`fallback`). */
  fallbackOperations: number;
  /** Operations refused with X_STORE_UNAVAILABLE (`refuse`). */
  refusedOperations: number;
}

// Redis answers these while it cannot serve (yet): treat them like a lost connection.
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|OOM)\b/;

/** Whether an error means "Redis cannot serve now" rather than a bug in a command or script. */
export function isUnavailableError(error: unknown): boolean {
  if (error instanceof ReplyError) return TRANSIENT_REPLY.test((error as Error).message);
  // Bad arguments and bugs must surface, not hide behind a fallback.
  if (error instanceof RangeError || error instanceof TypeError || error instanceof SyntaxError) return false;
  // Everything else comes from the connection: closed, not writeable, timed out, retries exhausted.
  return true;
}

/**
 * Routes each store operation to Redis while it is reachable, and otherwise to the fallback
 * (or refuses). It is the only place that knows the outage state, so every store switches
 * together and the warning is logged once per outage, not once per operation.
 */
export class Availability {
  #status: RedisStoresStatus = 'connecting';
  #outages = 0;
  #fallbackOperations = 0;
  #refusedOperations = 0;
  #closed = false;

  constructor(
    private readonly client: Redis,
    private readonly mode: 'fallback' | 'refuse',
    private readonly logger: Logger,
    private readonly where: string,
  ) {
    // Without an `error` listener, ioredis re-emits connection errors as unhandled and the
    // process crashes; here they only move the state.
    client.on('error', (error: Error) => this.markDown(error));
    client.on('close', () => this.markDown(new Error('connection closed')));
    client.on('ready', () => this.markUp());
  }

  get status(): RedisStoresStatus {
    return this.#status;
  }

  stats(): RedisStoresStats {
    return {
      status: this.#status,
      outages: this.#outages,
      fallbackOperations: this.#fallbackOperations,
      refusedOperations: this.#refusedOperations,
    };
  }

  /** Whether operations go to Redis right now. */
  get usable(): boolean {
    return !this.#closed && this.client.status === 'ready';
  }

  /**
   * Runs `viaRedis` when Redis is usable; on an availability failure (or when it is not usable)
   * runs `viaFallback` (`fallback`) or throws `X_STORE_UNAVAILABLE` at once (`refuse`).
   * Other errors (a bug in a command) are rethrown as they are.
   */
  async run<T>(operation: string, viaRedis: () => Promise<T>, viaFallback: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new XEnrichError('X_STORE_UNAVAILABLE', `Redis stores are closed (${operation}).`);
    let cause: unknown = new Error(`Redis connection is ${this.client.status}`);
    if (this.client.status === 'ready') {
      try {
        const result = await viaRedis();
        // A stall without a disconnect (SIGSTOP then SIGCONT, a swapping host) times commands out
        // and marks the stores down, but ioredis never emits `ready` again because the connection
        // never closed: the next command that succeeds is the proof that Redis serves again.
        if (this.#status !== 'ready') this.markUp();
        return result;
      } catch (error) {
        if (!isUnavailableError(error)) throw error;
        cause = error;
        this.markDown(error as Error);
      }
    } else {
      // Not connected (also: still connecting after `startupWaitMs`): say so once.
      this.markDown(cause as Error);
    }
    if (this.mode === 'refuse') {
      this.#refusedOperations++;
      throw new XEnrichError('X_STORE_UNAVAILABLE', `Redis at ${this.where} is unavailable; refusing ${operation} (onUnavailable: refuse).`, {
        cause,
        retryable: true,
        details: { operation },
      });
    }
    this.#fallbackOperations++;
    return viaFallback();
  }

  /** Stops routing and reporting; further operations throw. */
  close(): void {
    this.#closed = true;
    this.#status = 'closed';
  }

  private markDown(error: Error): void {
    if (this.#closed) return;
    const next = this.mode === 'fallback' ? 'degraded' : 'unavailable';
    if (this.#status === next) return;
    this.#status = next;
    this.#outages++;
    const reason = error.message;
    if (this.mode === 'fallback') {
      this.logger.warn(
        { code: 'X_WARN_STORE_FALLBACK', redis: this.where, reason },
        'Redis is unavailable: using in-memory stores until it returns (cache and rate-limit budget are per process meanwhile)',
      );
    } else {
      this.logger.error({ code: 'X_STORE_UNAVAILABLE', redis: this.where, reason }, 'Redis is unavailable: refusing lookups until it returns');
    }
  }

  private markUp(): void {
    if (this.#closed || this.#status === 'ready') return;
    const recovered = this.#status !== 'connecting';
    this.#status = 'ready';
    if (recovered) this.logger.info({ redis: this.where }, 'Redis is reachable again: shared stores resumed');
  }
}
