/** Limits of `orderedPool`. */
export interface OrderedPoolOptions {
  /** Tasks running at once (started and not settled). */
  concurrency: number;
  /**
   * Tasks started and not yet handed to the consumer, settled or not: the reorder buffer. It
   * bounds memory (results held behind a slow one) and how far the pool reads ahead of the
   * consumer. At least `concurrency`.
   */
  window: number;
}

/** The default reorder window for a concurrency: wide enough that a slow task rarely fills it, small enough to bound memory. */
export function defaultWindow(concurrency: number): number {
  return Math.max(1_024, concurrency * 64);
}

interface Slot<O> {
  settled: boolean;
  value?: O;
  error?: unknown;
  failed?: boolean;
}

/**
 * Maps `inputs` through `start` with bounded concurrency and yields the results in input order.
 *
 * Unlike "start `concurrency` tasks and await the oldest", a slow task does not stop the others:
 * while it runs, new tasks start as others settle (up to `concurrency` running), and finished
 * results wait in a reorder buffer of at most `window` entries until the slow one is yielded.
 * Only a full window (one task slower than `window` others) makes new work wait. The source is
 * read while results are pending, and results are yielded while the source is slow (stdin).
 *
 * `start` may return a value (synchronous work: a cache hit) or a promise. A rejected task is
 * rethrown at its position in the order.
 */
export async function* orderedPool<I, O>(
  inputs: AsyncIterable<I> | Iterable<I>,
  start: (input: I) => O | Promise<O>,
  options: OrderedPoolOptions,
): AsyncGenerator<O, void, undefined> {
  const concurrency = Math.max(1, options.concurrency);
  const window = Math.max(concurrency, options.window);
  const iterator = (Symbol.asyncIterator in inputs ? inputs[Symbol.asyncIterator]() : (inputs as Iterable<I>)[Symbol.iterator]()) as AsyncIterator<I> | Iterator<I>;
  const queue: Array<Slot<O>> = [];
  let head = 0; // index of the oldest slot not yet yielded (a cursor: shifting a long array is O(n))
  let running = 0;
  let done = false;
  let reading: Promise<void> | undefined;
  let readResult: IteratorResult<I> | undefined;
  let readError: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };

  const launch = (input: I): void => {
    const slot: Slot<O> = { settled: false };
    queue.push(slot);
    let result: O | Promise<O>;
    try {
      result = start(input);
    } catch (error) {
      slot.settled = true;
      slot.failed = true;
      slot.error = error;
      return;
    }
    if (!(result instanceof Promise)) {
      slot.settled = true;
      slot.value = result;
      return;
    }
    running++;
    result.then(
      (value) => {
        slot.settled = true;
        slot.value = value;
        running--;
        notify();
      },
      (error: unknown) => {
        slot.settled = true;
        slot.failed = true;
        slot.error = error;
        running--;
        notify();
      },
    );
  };

  try {
    for (;;) {
      // Hand over what is ready, in order.
      while (head < queue.length && (queue[head] as Slot<O>).settled) {
        const slot = queue[head] as Slot<O>;
        queue[head++] = undefined as unknown as Slot<O>;
        if (slot.failed) throw slot.error;
        yield slot.value as O;
      }
      if (head === queue.length && head > 0) {
        queue.length = 0;
        head = 0;
      } else if (head > 4_096 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      if (readError) throw readError.error;
      if (readResult) {
        const step = readResult;
        readResult = undefined;
        if (step.done) done = true;
        else launch(step.value);
        continue;
      }
      if (done && head === queue.length) return;
      const pending = queue.length - head;
      if (!done && !reading && running < concurrency && pending < window) {
        const next = iterator.next();
        if (!(next instanceof Promise)) {
          // A synchronous source: no promise per input.
          readResult = next;
          continue;
        }
        reading = next.then(
          (step) => {
            reading = undefined;
            readResult = step;
            notify();
          },
          (error: unknown) => {
            reading = undefined;
            readError = { error };
            notify();
          },
        );
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (!done) {
      // A read in flight finishes first: an async generator refuses `return` while it runs.
      if (reading) await reading;
      await iterator.return?.();
    }
  }
}
