import type { Clock } from '../contract/tokens.js';
import { abortError } from '../contract/sleep.js';

/**
 * A `Clock` whose time moves only when a test says so. `sleep` resolves when `advance` (or
 * `runAll`) moves the time past its deadline, in deadline order, so rate-limit waits, retry
 * delays and timeouts are exact and independent of the machine's load.
 */
export interface FakeClock extends Clock {
  /** Moves the time forward by `ms`, waking every sleeper whose deadline passes, in order. */
  advance(ms: number): Promise<void>;
  /** Moves the time to the next sleeper's deadline and wakes it; resolves false when none sleeps. */
  next(): Promise<boolean>;
  /** How many sleeps are pending. */
  readonly sleepers: number;
  set(now: number): void;
}

interface Sleeper {
  at: number;
  seq: number;
  wake: () => void;
}

/** Lets promise callbacks that a wake-up queued run before the next one (a few microtask turns). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}

export function createFakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let now = start;
  let seq = 0;
  const sleepers: Sleeper[] = [];
  const remove = (sleeper: Sleeper): void => {
    const i = sleepers.indexOf(sleeper);
    if (i >= 0) sleepers.splice(i, 1);
  };
  const wakeDue = async (until: number): Promise<void> => {
    for (;;) {
      sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const first = sleepers[0];
      if (!first || first.at > until) break;
      sleepers.shift();
      if (first.at > now) now = first.at;
      first.wake();
      await settle();
    }
    if (until > now) now = until;
  };
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(abortError(signal));
          return;
        }
        const onAbort = (): void => {
          remove(sleeper);
          reject(abortError(signal));
        };
        const sleeper: Sleeper = {
          at: now + Math.max(0, ms),
          seq: seq++,
          wake: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        sleepers.push(sleeper);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async advance(ms) {
      await settle();
      await wakeDue(now + ms);
      await settle();
    },
    async next() {
      await settle();
      sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const first = sleepers[0];
      if (!first) return false;
      await wakeDue(first.at);
      return true;
    },
    get sleepers() {
      return sleepers.length;
    },
    set(value) {
      now = value;
    },
  };
}
