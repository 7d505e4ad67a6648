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

/**
 * One attempt with a cooperative timeout: after `timeoutMs` (not counting paused time) the
 * signal passed to `fn` aborts with an `UpstreamError('timeout')` and the attempt rejects with
 * it at once, without waiting for `fn` to notice. `parent` aborting rejects with X_ABORTED.
 * `timeoutMs <= 0` disables the timeout. `pausable: false` when nothing will pause it (no rate limits).
 *
 * We do not use cockatiel's TimeoutPolicy because its clock cannot be paused for rate-limit waits.
 */
export function runAttempt<T>(timeoutMs: number, parent: AbortSignal, fn: (signal: AbortSignal) => Promise<T>, onTimeout?: () => void, pausable = true): Promise<T> {
  if (parent.aborted) return Promise.reject(abortError(parent));
  // Without a timeout the attempt can use the caller's signal as it is.
  if (timeoutMs <= 0) return fn(parent);
  const controller = new AbortController();
  const canAbort = parent !== NEVER_ABORTED;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let remaining = timeoutMs;
    let armedAt = 0;
    let paused = 0;

    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (canAbort) parent.removeEventListener('abort', onParentAbort);
      finish();
    };
    const onParentAbort = (): void => {
      controller.abort(parent.reason);
      settle(() => reject(abortError(parent)));
    };
    const fire = (): void => {
      const error = new UpstreamError('timeout', `The lookup took longer than ${formatDuration(timeoutMs)} (resilience.timeout).`);
      controller.abort(error);
      onTimeout?.();
      settle(() => reject(error));
    };
    const arm = (): void => {
      if (timeoutMs <= 0 || settled) return;
      armedAt = Date.now();
      timer = setTimeout(fire, Math.max(0, remaining));
    };

    // Only instances with rate limits can pause; the WeakMap entry is not free for the GC.
    if (pausable) timers.set(controller.signal, {
      pause() {
        if (paused++ === 0 && timer) {
          clearTimeout(timer);
          timer = undefined;
          remaining -= Date.now() - armedAt;
        }
      },
      resume() {
        if (--paused === 0) arm();
      },
    });

    if (canAbort) parent.addEventListener('abort', onParentAbort, { once: true });
    arm();
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(fn(controller.signal));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
