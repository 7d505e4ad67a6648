import { formatDuration } from '../config/duration.js';
import { UpstreamError } from '../errors/x-enrich-error.js';
import { abortError } from '../rate-limit/sleep.js';

/** The running attempt's timeout clock, found from the signal the attempt was given. */
interface AttemptTimer {
  pause(): void;
  resume(): void;
}

// Keyed by the attempt's signal, which providers pass on to their HTTP requests (and so to the
// rate limiter). A WeakMap rather than AsyncLocalStorage: on Node 20, ALS turns on promise hooks
// for the whole process, which costs every await in the host a little.
const timers = new WeakMap<AbortSignal, AttemptTimer>();

/** A signal that never aborts, shared by work nobody can cancel. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/**
 * Runs `fn` with the timeout of the attempt that owns `signal` paused. The engine wraps
 * rate-limit waits in it: waiting for budget is not the upstream being slow, and a 10 s timeout
 * must not kill a lookup queued behind a 4-per-minute quota. Without a known signal it just runs `fn`.
 */
export async function withAttemptTimeoutPaused<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  const timer = signal ? timers.get(signal) : undefined;
  if (!timer) return fn();
  timer.pause();
  try {
    return await fn();
  } finally {
    timer.resume();
  }
}

interface RunningAttempt {
  deadline: number;
  paused: number;
  fire(): void;
}

/**
 * One timer per provider instance instead of one per attempt: it ticks every `timeoutMs / 8`
 * (1 ms to 250 ms) while attempts are running and fires those past their deadline, so a
 * timeout fires up to one tick late. Cheaper than a setTimeout and clearTimeout per lookup.
 */
export class DeadlineWheel {
  private readonly attempts = new Set<RunningAttempt>();
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;

  constructor(readonly timeoutMs: number) {
    this.tickMs = Math.min(250, Math.max(1, Math.floor(timeoutMs / 8)));
  }

  add(attempt: RunningAttempt): void {
    this.attempts.add(attempt);
    this.timer ??= setInterval(() => this.check(), this.tickMs);
  }

  delete(attempt: RunningAttempt): void {
    this.attempts.delete(attempt);
    if (this.attempts.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private check(): void {
    const now = Date.now();
    for (const attempt of this.attempts) if (attempt.paused === 0 && now >= attempt.deadline) attempt.fire();
  }
}

/**
 * One attempt with a cooperative timeout: after `wheel.timeoutMs` (not counting paused time)
 * the signal passed to `fn` aborts with an `UpstreamError('timeout')` and the attempt rejects
 * with it at once, without waiting for `fn` to notice. `parent` aborting rejects with X_ABORTED.
 * No wheel (timeout 0) disables the timeout. `pausable: false` when nothing will pause it (no rate limits).
 *
 * We do not use cockatiel's TimeoutPolicy because its clock cannot be paused for rate-limit waits.
 */
/** What an attempt hands the provider: its signal, created only when the provider reads it. */
export interface AttemptContext {
  readonly signal: AbortSignal;
}

export function runAttempt<T>(wheel: DeadlineWheel | undefined, parent: AbortSignal, fn: (attempt: AttemptContext) => Promise<T>, onTimeout?: () => void, pausable = true): Promise<T> {
  if (parent.aborted) return Promise.reject(abortError(parent));
  // Without a timeout the attempt can use the caller's signal as it is.
  if (!wheel) return fn({ signal: parent });
  const timeoutMs = wheel.timeoutMs;
  const canAbort = parent !== NEVER_ABORTED;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let remaining = 0;
    // An AbortController is one of the costlier objects of a lookup; providers that never read
    // `signal` (in-process ones) never make one. Read after the abort, it is already aborted.
    let controller: AbortController | undefined;
    let abortReason: unknown;
    let aborted = false;
    const abort = (reason: unknown): void => {
      aborted = true;
      abortReason = reason;
      controller?.abort(reason);
    };

    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      wheel.delete(attempt);
      if (canAbort) parent.removeEventListener('abort', onParentAbort);
      finish();
    };
    const onParentAbort = (): void => {
      abort(parent.reason);
      settle(() => reject(abortError(parent)));
    };
    const attempt: RunningAttempt = {
      deadline: Date.now() + timeoutMs,
      paused: 0,
      fire() {
        const error = new UpstreamError('timeout', `The lookup took longer than ${formatDuration(timeoutMs)} (resilience.timeout).`);
        abort(error);
        onTimeout?.();
        settle(() => reject(error));
      },
    };
    const context: AttemptContext = {
      get signal() {
        if (!controller) {
          controller = new AbortController();
          if (aborted) controller.abort(abortReason);
          if (pausable) {
            timers.set(controller.signal, {
              pause() {
                if (attempt.paused++ === 0) remaining = attempt.deadline - Date.now();
              },
              resume() {
                if (--attempt.paused === 0) attempt.deadline = Date.now() + remaining;
              },
            });
          }
        }
        return controller.signal;
      },
    };

    if (canAbort) parent.addEventListener('abort', onParentAbort, { once: true });
    wheel.add(attempt);
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(fn(context));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
