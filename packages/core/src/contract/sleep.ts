import { XEnrichError } from './x-enrich-error.js';

/** The error every x-enrich wait rejects with when its signal aborts. */
export function abortError(signal?: AbortSignal): XEnrichError {
  return new XEnrichError('X_ABORTED', 'The lookup was aborted.', { cause: signal?.reason });
}

/** Resolves after `ms`, or rejects with X_ABORTED as soon as `signal` aborts (the timer is cleared). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
