import { AsyncLocalStorage } from 'node:async_hooks';
import { formatDuration } from '../config/duration.js';
import { UpstreamError } from '../errors/x-enrich-error.js';
import { abortError } from '../rate-limit/sleep.js';

/** The running attempt's timeout clock, reachable from code the attempt calls (the rate limiter). */
interface AttemptTimer {
  pause(): void;
  resume(): void;
}

const attemptStorage = new AsyncLocalStorage<AttemptTimer>();

/**
 * Runs `fn` with the current attempt's timeout paused. The engine wraps rate-limit waits in it:
 * waiting for budget is not the upstream being slow, and a 10 s timeout must not kill a lookup
 * that is queued behind a 4-per-minute quota.
 */
export async function withAttemptTimeoutPaused<T>(fn: () => Promise<T>): Promise<T> {
  const timer = attemptStorage.getStore();
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
 * `timeoutMs <= 0` disables the timeout.
 *
 * We do not use cockatiel's TimeoutPolicy because its clock cannot be paused for rate-limit waits.
 */
export function runAttempt<T>(timeoutMs: number, parent: AbortSignal, fn: (signal: AbortSignal) => Promise<T>, onTimeout?: () => void): Promise<T> {
  if (parent.aborted) return Promise.reject(abortError(parent));
  const controller = new AbortController();
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
      parent.removeEventListener('abort', onParentAbort);
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

    const attempt: AttemptTimer = {
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
    };

    parent.addEventListener('abort', onParentAbort, { once: true });
    arm();
    attemptStorage.run(attempt, () => {
      Promise.resolve()
        .then(() => fn(controller.signal))
        .then(
          (value) => settle(() => resolve(value)),
          (error: unknown) => settle(() => reject(error)),
        );
    });
  });
}
