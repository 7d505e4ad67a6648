import { abortError } from '../../contract/sleep.js';
import { NEVER_ABORTED } from '../../resilience/attempt-timeout.js';
import type { CoalescingStore } from '../../contract/rate-limit-store.js';
import { SharedSignal, raceSignal } from '../shared-signal.js';
import type { Emit, FetchResult, LookupContext, LookupStage, Next } from './stage.js';

export interface CoalesceStageOptions {
  instance: string;
  emit: Emit;
  /** Cross-process coalescing; undefined: in-process only. */
  store: CoalescingStore | undefined;
  /** How long a cross-process claim holds, and how long we wait for another process's fetch (ms). */
  claimTtlMs: number;
}

interface Flight {
  promise: Promise<FetchResult>;
  /** Undefined when the first caller cannot abort: nobody can cancel the flight, so nobody need join it. */
  shared: SharedSignal | undefined;
}

/**
 * Coalescing: concurrent lookups of one key share one trip down the rest of the chain (a
 * flight), in this process through a map, and with a `CoalescingStore` across processes: the
 * process holding the claim fetches, the others wait for it and then go on marked
 * `fetchedElsewhere` (the cache stage below reads the entry it wrote, and fetches only when it
 * never came). The claim holder goes on marked the same way (unless it refreshes): another
 * process may have filled the cache after our miss and released before our claim. A flight is cancelled only when every lookup that joined it gave up; a caller
 * that gives up gets X_ABORTED at once.
 */
export class CoalesceStage implements LookupStage {
  private readonly inflight = new Map<string, Flight>();

  constructor(private readonly options: CoalesceStageOptions) {}

  execute(context: LookupContext, next: Next<LookupContext, FetchResult>): Promise<FetchResult> {
    let flight = this.inflight.get(context.key);
    if (flight) {
      this.options.emit({ type: 'coalesced', instance: this.options.instance });
      flight.shared?.join(context.signal);
    } else {
      flight = this.start(context, next);
    }
    const signal = context.signal;
    return raceSignal(flight.promise, signal, () => abortError(signal));
  }

  private start(context: LookupContext, next: Next<LookupContext, FetchResult>): Flight {
    const { key } = context;
    // A first caller that cannot abort keeps the flight alive for good (see SharedSignal): then
    // the flight needs no shared signal at all, the common case of a run without a signal.
    let shared: SharedSignal | undefined;
    let signal = NEVER_ABORTED;
    if (context.signal && context.signal !== NEVER_ABORTED) {
      shared = new SharedSignal();
      shared.join(context.signal);
      signal = shared.signal;
    }
    const flightContext: LookupContext = { observable: context.observable, key, signal, refresh: context.refresh };
    const store = this.options.store;
    const promise = store ? this.acrossProcesses(flightContext, next, store, signal) : next(flightContext);
    const flight: Flight = { promise, shared };
    this.inflight.set(key, flight);
    // Once every caller gave up, later callers must start afresh instead of joining a cancelled fetch.
    if (signal !== NEVER_ABORTED) {
      signal.addEventListener('abort', () => {
        if (this.inflight.get(key) === flight) this.inflight.delete(key);
      }, { once: true });
    }
    const done = (): void => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
      shared?.dispose();
    };
    promise.then(done, done);
    return flight;
  }

  /** `next` under a cross-process claim, so that one process fetches and the others read its result. */
  private async acrossProcesses(context: LookupContext, next: Next<LookupContext, FetchResult>, store: CoalescingStore, signal: AbortSignal): Promise<FetchResult> {
    const { key } = context;
    const ttl = this.options.claimTtlMs;
    // A store that fails to answer must not stop lookups: we fetch ourselves.
    const claimed = await store.claim(key, ttl).catch(() => true);
    if (!claimed) {
      await store.waitFor(key, ttl, signal).catch(() => false);
      return next({ ...context, fetchedElsewhere: true });
    }
    try {
      // Between our cache miss and this claim, another process may have fetched, cached and
      // released this key (its "just fetched" window, if the store keeps one, can have passed
      // on a loaded machine): read the cache once more before fetching. `refresh` wants a new
      // fetch, so it skips the read.
      return await next(context.refresh ? context : { ...context, fetchedElsewhere: true });
    } finally {
      await store.release(key).catch(() => undefined);
    }
  }
}
