
/** What the CLI hands the OS at once at most, unless the stream is idle first. */
export const OUTPUT_BATCH_CHARS = 64 * 1024;

export interface BatchedWriter {
  /** Queues text; resolves at once, or once a full batch is handed to the OS (backpressure). */
  write(text: string): Promise<void>;
  /** Hands whatever is queued to the OS; resolves once it is there. */
  flush(): Promise<void>;
}

/**
 * Joins the formatter's small pieces into fewer writes. A warm re-run of a feed produces a record
 * every few microseconds, and one write (a syscall: stdout is synchronous for files and pipes)
 * per item cost as much as serialising it (profile in docs/performance.md). Nothing waits for a
 * batch to fill: whatever is queued is written as soon as the run waits for anything else (the
 * next immediate), so records still appear as lookups finish, and `| head` still sees them.
 */
export function createBatchedWriter(sink: (text: string) => Promise<void>, batchChars = OUTPUT_BATCH_CHARS): BatchedWriter {
  let pending = '';
  let armed = false;
  const flush = (): Promise<void> => {
    const text = pending;
    pending = '';
    return text ? sink(text) : Promise.resolve();
  };
  const onIdle = (): void => {
    armed = false;
    // A failed write also emits `error` on the stream (handled where the stream is owned), and
    // every later write, including the final awaited flush, then fails and reports it.
    if (pending) flush().catch(() => undefined);
  };
  return {
    write(text) {
      if (!text) return Promise.resolve();
      pending += text;
      if (pending.length >= batchChars) return flush();
      if (!armed) {
        armed = true;
        setImmediate(onIdle);
      }
      return Promise.resolve();
    },
    flush,
  };
}
