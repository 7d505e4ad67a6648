import { capture, captured } from './capture.js';

/**
 * The bulkhead of an instance: at most `capacity` calls run at once, up to `queueCapacity` more
 * wait in order (first in, first out), the rest are refused. cockatiel's `BulkheadPolicy` did
 * this, and its queue path was the largest allocation of a cache miss (2 KB of ~8.8 KB per
 * miss in the engine bench: an async frame, a deferred promise and a four-promise hand-over per
 * queued call; with `concurrency` above `maxConcurrent`, as by default, most calls queue). This
 * one hands a freed slot straight to the next waiter. It rejects with the errors it is given
 * (cockatiel's, so the policies map them as before).
 */
export class Bulkhead {
  private active = 0;
  private readonly queue: Array<Waiter<unknown, unknown>> = [];
  /** Bound once: called when any running call settles. */
  private readonly release = (): void => {
    this.active--;
    this.next();
  };

  constructor(
    private readonly capacity: number,
    private readonly queueCapacity: number,
    private readonly errors: { rejected(): Error; cancelled(signal: AbortSignal): Error; onReject(): void },
  ) {}

  execute<T>(fn: (context: { signal: AbortSignal }) => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.call(withSignal, fn, signal);
  }

  /**
   * `task(arg, signal)` under the bulkhead: what `execute` does, for a caller that would
   * otherwise make a closure per call to pass its argument (the policies, once per miss).
   */
  call<A, T>(task: (arg: A, signal: AbortSignal) => Promise<T>, arg: A, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(this.errors.cancelled(signal));
    if (this.active < this.capacity) return this.run(task, arg, signal);
    if (this.queue.length < this.queueCapacity) {
      // The executor is a module function, not a closure per queued call (see `capture`).
      const promise = new Promise<T>(capture);
      this.queue.push({ task, arg, signal, resolve: captured.resolve, reject: captured.reject } as Waiter<unknown, unknown>);
      return promise;
    }
    this.errors.onReject();
    return Promise.reject(this.errors.rejected());
  }

  private run<A, T>(task: (arg: A, signal: AbortSignal) => Promise<T>, arg: A, signal: AbortSignal): Promise<T> {
    this.active++;
    let running: Promise<T>;
    try {
      running = task(arg, signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(this.release, this.release);
    return running;
  }

  /** The next waiter takes the freed slot; one whose caller gave up meanwhile is cancelled. */
  private next(): void {
    while (this.active < this.capacity) {
      const waiter = this.queue.shift();
      if (!waiter) return;
      if (waiter.signal.aborted) {
        waiter.reject(this.errors.cancelled(waiter.signal));
        continue;
      }
      this.run(waiter.task, waiter.arg, waiter.signal).then(waiter.resolve, waiter.reject);
    }
  }
}

function withSignal<T>(fn: (context: { signal: AbortSignal }) => Promise<T>, signal: AbortSignal): Promise<T> {
  return fn({ signal });
}

interface Waiter<A, T> {
  task: (arg: A, signal: AbortSignal) => Promise<T>;
  arg: A;
  signal: AbortSignal;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}
