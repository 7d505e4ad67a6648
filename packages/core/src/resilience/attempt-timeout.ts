import { setMaxListeners } from 'node:events';
import { formatDuration } from '../contract/duration.js';
import { systemClock, type Clock } from '../contract/tokens.js';
import { UpstreamError } from '../contract/x-enrich-error.js';
import type { AttemptTimeout } from '../contract/provider.js';
import { abortError } from '../contract/sleep.js';
import { capture, captured } from './capture.js';

/**
 * A signal that never aborts, shared by work nobody can cancel. Stores and providers receive it
 * and may listen to it (a Redis coalescing wait does, once per waiting lookup), so many listeners
 * at once are normal: without the limit lifted Node warns of a leak after 10.
 */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
setMaxListeners(0, NEVER_ABORTED);

interface RunningAttempt {
  deadline: number;
  paused: number;
  fire(): void;
}

/**
 * One timer per provider instance instead of one per attempt: it ticks every `timeoutMs / 8`
 * (1 ms to 250 ms) while attempts are running and fires those past their deadline, so a
 * timeout fires up to one tick late. Cheaper than a setTimeout and clearTimeout per lookup.
 *
 * Time comes from `clock`. On the system clock the wheel is a `setInterval` (unref'd while
 * idle); on another clock (a test's fake clock) it ticks with `clock.sleep`, so advancing the
 * fake clock is what fires timeouts.
 */
export class DeadlineWheel {
  private readonly attempts = new Set<RunningAttempt>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** Ends the pending tick of a non-system clock when the wheel goes idle, so no sleeper outlives the attempts. */
  private tickStop: AbortController | undefined;
  private readonly tickMs: number;

  constructor(
    readonly timeoutMs: number,
    readonly clock: Clock = systemClock,
  ) {
    this.tickMs = Math.min(250, Math.max(1, Math.floor(timeoutMs / 8)));
  }

  add(attempt: RunningAttempt): void {
    this.attempts.add(attempt);
    if (this.clock !== systemClock) {
      if (!this.ticking) void this.tickOnClock();
    } else if (!this.timer) this.timer = setInterval(() => this.check(), this.tickMs);
    else if (this.attempts.size === 1) this.timer.ref();
  }

  private async tickOnClock(): Promise<void> {
    this.ticking = true;
    try {
      while (this.attempts.size > 0) {
        const stop = (this.tickStop = new AbortController());
        try {
          await this.clock.sleep(this.tickMs, stop.signal);
        } catch {
          continue; // stopped: the wheel went idle (the loop goes on if an attempt came back meanwhile)
        }
        this.check();
      }
    } finally {
      this.ticking = false;
      this.tickStop = undefined;
    }
  }

  delete(attempt: RunningAttempt): void {
    this.attempts.delete(attempt);
    // Back-to-back attempts often leave the set empty for a moment: rather than a clearInterval and
    // setInterval each time, the idle timer is unref'd (it never keeps the process alive) and
    // stopped by its next tick if still idle.
    if (this.attempts.size === 0) {
      this.timer?.unref();
      this.tickStop?.abort();
    }
  }

  private check(): void {
    if (this.attempts.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = this.clock.now();
    for (const attempt of this.attempts) if (attempt.paused === 0 && now >= attempt.deadline) attempt.fire();
  }
}

/**
 * What an attempt hands the provider: its signal (created only when the provider reads it) and
 * its timeout, which the upstream client pauses while a request waits for rate-limit budget
 * (see `EnrichContext.attemptTimeout`).
 */
export interface AttemptContext extends AttemptTimeout {
  readonly signal: AbortSignal;
  /**
   * Tells the attempt which context object it was handed to the provider in (`contextFor`), so
   * that core's upstream client, given that very object, can listen to the attempt's abort
   * through `abortWatchOf` without making its `signal` (an AbortController per miss).
   */
  adopt?(context: object): void;
}

/**
 * What the transport listens to for an abort: an `AbortSignal`, or a running attempt itself
 * (same `aborted` and `abort` event, no AbortController made). Listeners are called without an
 * event and must be removed by whoever added them once they no longer care.
 */
export interface AbortWatch {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * The abort to follow for a request made with `context`: the attempt itself when the context is
 * the one the attempt adopted (its signal would abort exactly when the attempt does), otherwise
 * the context's own signal (a provider or plugin that built or spread a context of its own, a
 * host's context, an untimed attempt).
 */
export function abortWatchOf(context: { readonly signal: AbortSignal; readonly attemptTimeout?: unknown }): AbortWatch {
  const attempt = context.attemptTimeout;
  if (attempt instanceof Attempt && attempt.adopted === context) return attempt;
  return context.signal;
}

/** The context of an attempt that runs without a timeout: the caller's signal, nothing to pause. */
class UntimedAttempt implements AttemptContext {
  constructor(readonly signal: AbortSignal) {}
  pause(): void {}
  resume(): void {}
}

/**
 * One attempt with a cooperative timeout: after `wheel.timeoutMs` (not counting paused time)
 * the signal passed to `fn` aborts with an `UpstreamError('timeout')` and the attempt rejects
 * with it at once, without waiting for `fn` to notice. `parent` aborting rejects with X_ABORTED.
 * No wheel (timeout 0) disables the timeout. `pausable: false` when nothing may pause it (no
 * rate limits): `pause()` then does nothing.
 *
 * We do not use cockatiel's TimeoutPolicy because its clock cannot be paused for rate-limit waits.
 */
export function runAttempt<T>(wheel: DeadlineWheel | undefined, parent: AbortSignal, fn: (attempt: AttemptContext) => Promise<T>, onTimeout?: () => void, pausable = true): Promise<T> {
  if (parent.aborted) return Promise.reject(abortError(parent));
  // Without a timeout the attempt can use the caller's signal as it is.
  if (!wheel) return fn(new UntimedAttempt(parent));
  const attempt = new Attempt<T>(wheel, parent, onTimeout, pausable);
  const promise = new Promise<T>(capture);
  attempt.resolve = captured.resolve as (value: T) => void;
  attempt.reject = captured.reject;
  if (attempt.canAbort) parent.addEventListener('abort', attempt, { once: true });
  wheel.add(attempt);
  let pending: Promise<T>;
  try {
    pending = Promise.resolve(fn(attempt));
  } catch (error) {
    pending = Promise.reject(error);
  }
  pending.then(
    (value) => attempt.settle() && attempt.resolve(value),
    (error: unknown) => attempt.settle() && attempt.reject(error),
  );
  return promise;
}

/**
 * The state of one running attempt in a single object (its wheel entry, its context for `fn`
 * and its listener for the parent's abort) instead of a closure each: one lookup makes one.
 */
class Attempt<T> implements RunningAttempt, AttemptContext, AbortWatch {
  deadline: number;
  paused = 0;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  readonly canAbort: boolean;
  private settled = false;
  private remaining = 0;
  // An AbortController is one of the costlier objects of a lookup; providers that never read
  // `signal` (in-process ones) never make one. Read after the abort, it is already aborted.
  private controller: AbortController | undefined;
  private isAborted = false;
  private abortReason: unknown;
  /** The provider's context made for this attempt (see `adopt`). */
  adopted: object | undefined;
  /** `abort` listeners added through `AbortWatch` (one, or several requests at once). */
  private listeners: (() => void) | Array<() => void> | undefined;

  constructor(
    private readonly wheel: DeadlineWheel,
    private readonly parent: AbortSignal,
    private readonly onTimeout: (() => void) | undefined,
    private readonly pausable: boolean,
  ) {
    this.deadline = wheel.clock.now() + wheel.timeoutMs;
    this.canAbort = parent !== NEVER_ABORTED;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.isAborted) controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  adopt(context: object): void {
    this.adopted = context;
  }

  /** Whether the attempt has aborted (its signal, made or not, is aborted). */
  get aborted(): boolean {
    return this.isAborted;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === undefined) this.listeners = listener;
    else if (typeof listeners === 'function') this.listeners = [listeners, listener];
    else listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === listener) this.listeners = undefined;
    else if (Array.isArray(listeners)) {
      const index = listeners.indexOf(listener);
      if (index !== -1) listeners.splice(index, 1);
    }
  }

  /** Stops the timeout clock (nested pauses count); the time left is kept for `resume`. */
  pause(): void {
    if (this.pausable && this.paused++ === 0) this.remaining = this.deadline - this.wheel.clock.now();
  }

  resume(): void {
    if (this.pausable && this.paused > 0 && --this.paused === 0) this.deadline = this.wheel.clock.now() + this.remaining;
  }

  /** True the first time: the attempt leaves the wheel and stops listening to the parent. */
  settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.wheel.delete(this);
    if (this.canAbort) this.parent.removeEventListener('abort', this);
    return true;
  }

  private abort(reason: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (typeof listeners === 'function') listeners();
    else if (listeners) for (const listener of listeners) listener();
  }

  /** The parent signal aborted (this object is its listener). */
  handleEvent(): void {
    this.abort(this.parent.reason);
    if (this.settle()) this.reject(abortError(this.parent));
  }

  fire(): void {
    const timeoutMs = this.wheel.timeoutMs;
    const error = new UpstreamError('timeout', `The lookup took longer than ${formatDuration(timeoutMs)} (resilience.timeout).`);
    this.abort(error);
    this.onTimeout?.();
    if (this.settle()) this.reject(error);
  }
}
