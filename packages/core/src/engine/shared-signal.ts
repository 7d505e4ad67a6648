import { NEVER_ABORTED } from '../resilience/attempt-timeout.js';

/**
 * The signal of work shared by several callers (a coalesced lookup, a batch): it aborts only
 * when every caller that joined has aborted, so one impatient caller never cancels the others.
 * A caller without a signal keeps it alive for good.
 */
export class SharedSignal {
  private controller: AbortController | undefined;
  private joined = 0;
  private abortedCount = 0;
  private permanent = false;
  /** The callers' signals and our listeners on them, removed by `dispose`. */
  private listening: Array<{ signal: AbortSignal; onAbort: () => void }> | undefined;

  /**
   * Read it after the first caller joined: when that caller cannot abort, the work can never be
   * cancelled and gets the shared never-aborted signal (no AbortController per lookup).
   */
  get signal(): AbortSignal {
    if (this.permanent && !this.controller) return NEVER_ABORTED;
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  join(signal: AbortSignal | undefined): void {
    this.joined++;
    // NEVER_ABORTED (the signal of uncancellable work, shared process-wide) is a caller that can
    // never abort: listening to it would only pile listeners onto one global signal.
    if (!signal || signal === NEVER_ABORTED) {
      this.permanent = true;
      return;
    }
    const onAbort = (): void => {
      this.abortedCount++;
      if (!this.permanent && this.abortedCount === this.joined) {
        this.controller ??= new AbortController();
        this.controller.abort(signal.reason);
      }
    };
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      (this.listening ??= []).push({ signal, onAbort });
    }
  }

  /**
   * Stops listening to the callers' signals; call when the work settled. Without it one
   * long-lived caller signal (a whole run's) would collect a listener per batch or lookup.
   */
  dispose(): void {
    if (!this.listening) return;
    for (const { signal, onAbort } of this.listening) signal.removeEventListener('abort', onAbort);
    this.listening = undefined;
  }
}

/** Resolves like `promise`, or rejects with `makeError()` as soon as `signal` aborts. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, makeError: () => Error): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(makeError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(makeError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
