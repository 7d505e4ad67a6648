import { sleep } from './sleep.js';
import './reflect-metadata.js';

/**
 * Injection tokens owned by core. Every injected constructor parameter names one of these
 * with `@inject(Tokens.X)`: esbuild (used by vitest and many hosts) drops decorator metadata,
 * and TypeScript interfaces do not exist at run time, so DI must never rely on either.
 *
 * Each provider instance gets a child container holding only its own values for these.
 */
export const Tokens = {
  /** The provider instance's options, already validated by the plugin's zod schema (with defaults). */
  ProviderOptions: Symbol.for('x-enrich.ProviderOptions'),
  /** The instance name from config (`providers.<name>`). */
  InstanceName: Symbol.for('x-enrich.InstanceName'),
  /** The validated manifest of the plugin this instance comes from. */
  Manifest: Symbol.for('x-enrich.Manifest'),
  /** A `Logger` bound to this instance (`{ provider: name }`), with secret redaction applied. */
  Logger: Symbol.for('x-enrich.Logger'),
  /** A `Clock`: injectable time, so tests and the cache agree on "now". */
  Clock: Symbol.for('x-enrich.Clock'),
  /**
   * The instance's `HttpClient`, owned by core: describe your API once with
   * `http.upstream({ baseUrl, auth, parseError, statuses, notFound })`, then send requests through
   * it. Each request waits for rate-limit budget (the attempt's timeout paused meanwhile), and its
   * failures arrive as `UpstreamError`s with secrets removed.
   */
  HttpClient: Symbol.for('x-enrich.HttpClient'),
  /** The instance's `RateLimiter`, for providers that must account for quota themselves. */
  RateLimiter: Symbol.for('x-enrich.RateLimiter'),
  /** The `EnrichmentProvider` implementation the plugin registered. */
  Provider: Symbol.for('x-enrich.Provider'),
} as const;

export type Token = (typeof Tokens)[keyof typeof Tokens];

/** A token as a container understands it: a symbol, a string or a class. */
export type InjectionToken = symbol | string | (abstract new (...args: never[]) => unknown);

/** Core re-exports these so provider packages never import tsyringe directly. */
export { inject, injectable, singleton } from 'tsyringe';
export type { DependencyContainer } from 'tsyringe';

/** Time source. `now()` is epoch milliseconds. */
/**
 * Injectable time. Everything in core that reads the time or waits (cache expiry, rate-limit
 * waits, retry delays, timeouts, breaker half-open) goes through one `Clock`, so a test drives
 * all of it with a fake clock (`createFakeClock` in `@x/core/testing`) instead of margins.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with X_ABORTED as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep };
