/**
 * The resolve and reject of the promise just made: `new Promise(capture)` runs `capture` at
 * once (synchronously), so the caller reads them from `captured` on the next line. A module
 * function as the executor instead of a closure per promise: the bulkhead's queue and each
 * attempt make one such promise per call.
 */
export const captured: { resolve: (value: never) => void; reject: (error: unknown) => void } = { resolve: () => undefined, reject: () => undefined };

export function capture(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}
