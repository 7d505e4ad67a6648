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
    if (!signal) {
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
    else signal.addEventListener('abort', onAbort, { once: true });
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
