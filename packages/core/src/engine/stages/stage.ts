import type { Observable } from '../../contract/observable-type.js';
import type { ProviderOutcome, TraceStep } from '../../contract/provider.js';
import type { AttemptContext } from '../../resilience/attempt-timeout.js';
import type { EnricherEvent } from '../events.js';

/**
 * The vocabulary the stages of a lookup pass on, and the one interface they share. This file
 * imports nothing from the stages: each stage knows this file and nothing else of the pipeline,
 * and the instance assembles them (`link`), as cockatiel's `wrap` assembles policies.
 *
 * A lookup goes down as a `LookupContext` and comes back up as a `FetchResult`; below the batch
 * stage the unit is one call into the provider (`CallContext` -> `CallResult`), which may carry
 * several lookups.
 */

/** One lookup of one observable by one instance. */
export interface LookupContext {
  readonly observable: Observable;
  /** `<instance>:<options fingerprint>:<type>:<value>`: the cache key, also the coalescing key. */
  readonly key: string;
  /** Aborts when everyone waiting for this lookup gave up; undefined: nobody can cancel it. */
  readonly signal: AbortSignal | undefined;
  /** Skip the cache read (the outcome is still written). */
  readonly refresh: boolean;
  /** Answer from the cache or not at all: a miss rejects with X_NOT_CACHED instead of going further. */
  readonly cacheOnly?: boolean;
  /**
   * Set by the coalescing stage when another process may have fetched this key since our cache
   * read (we waited for its fetch, or won the claim after it released): look in the cache
   * before fetching, and fetch only when no fresh entry is there.
   */
  readonly fetchedElsewhere?: boolean;
}

/** What comes back up for one lookup. */
export interface FetchResult {
  readonly outcome: ProviderOutcome;
  /** When the outcome was fetched from upstream (the cache entry's `storedAt` for a hit). */
  readonly fetchedAt: number;
  /** Read from the cache: this process's entry or the one another process wrote. */
  readonly fromCache: boolean;
}

/** One call into the provider: one observable through `enrich`, or several through `enrichMany`. */
export interface CallContext {
  readonly observables: readonly Observable[];
  /** Through `enrichMany` (a batch group) rather than `enrich`. */
  readonly batch: boolean;
  /** Aborts only when every lookup in the call gave up. */
  readonly signal: AbortSignal;
  /** The running attempt (its signal aborts on timeout); set by the guard stage. */
  readonly attempt?: AttemptContext;
  /** A traced dry run: the provider reports its steps here. */
  readonly trace?: (step: TraceStep) => void;
}

/**
 * One entry per observable of the call, in order: an outcome, or an Error that fails only that
 * observable (a batch). A failure of the whole call rejects instead.
 */
export type CallResult = ReadonlyArray<ProviderOutcome | Error>;

/** The rest of the chain, as a stage sees it. */
export type Next<C, R> = (context: C) => Promise<R>;

/**
 * One stage: it does its part and calls `next` for the rest (or does not, when it can answer:
 * a cache hit, a joined flight). `NC`/`NR` differ from `C`/`R` only where the unit changes (batch).
 */
export interface Stage<C, R, NC = C, NR = R> {
  execute(context: C, next: Next<NC, NR>): Promise<R>;
}

export type LookupStage = Stage<LookupContext, FetchResult>;

/** `stage` in front of `next`: the whole chain is `link(a, link(b, link(c, end)))`, built once per instance. */
export function link<C, R, NC, NR>(stage: Stage<C, R, NC, NR>, next: Next<NC, NR>): Next<C, R> {
  return (context) => stage.execute(context, next);
}

/**
 * What the stages report: the public `EnricherEvent`s, and two that only the instance's stats
 * read (a lookup joined a flight; a request started or stopped waiting for rate-limit budget).
 */
export type StageEvent =
  | EnricherEvent
  | { type: 'coalesced'; instance: string }
  | { type: 'quota_wait'; instance: string; phase: 'start' | 'end'; at: number };

export type Emit = (event: StageEvent) => void;
