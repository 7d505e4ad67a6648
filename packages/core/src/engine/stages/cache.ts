import { GET_SYNC, SET_SYNC, STORE_CLOCK, type SyncReadable, type SyncWritable } from '../../cache/memory-cache-store.js';
import type { Clock } from '../../contract/tokens.js';
import { XEnrichError, isXEnrichError } from '../../contract/x-enrich-error.js';
import type { Logger } from '../../contract/logger.js';
import type { Observable, ObservableType } from '../../contract/observable-type.js';
import type { ProviderOutcome } from '../../contract/provider.js';
import type { CacheEntry, CacheStore } from '../../contract/cache-store.js';
import type { FetchResult, LookupContext, LookupStage, Next } from './stage.js';

const DEFAULT_TTL_MS = 3_600_000;
export const DEFAULT_NOT_FOUND_TTL_MS = 600_000;

export interface CacheStageOptions {
  /** The instance name, for messages. */
  instance: string;
  store: CacheStore;
  /** Found outcomes live this long per type (default one hour). */
  ttlMs: Partial<Record<ObservableType, number>>;
  /** Not-found outcomes live this long. */
  notFoundTtlMs: number;
  clock: Clock;
  logger: Logger;
}

const hitOf = (entry: CacheEntry<ProviderOutcome>): FetchResult => ({ outcome: entry.value, fetchedAt: entry.storedAt, fromCache: true });
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Why a cache-only lookup has no answer (`caching`: whether the instance caches at all). */
export function notCached(instance: string, caching: boolean): XEnrichError {
  const why = caching ? 'has no unexpired cached result for it' : 'does not cache (cache: false)';
  return new XEnrichError('X_NOT_CACHED', `Instance "${instance}" ${why}; only a lookup (which may spend quota) can answer.`, { retryable: false });
}

/**
 * The cache stage. It reads before coalescing (`execute`, and `readSync` for the instance's
 * synchronous fast path when the store can answer at once), and its `writer` stage sits below
 * coalescing, so the one fetch a flight shares writes the entry once, before the flight ends:
 * a lookup arriving after that finds the entry. It only decides what to store: found outcomes
 * for the type's TTL, not-found for the not-found TTL, never errors or `pending`, never `raw`.
 */
export class CacheStage implements LookupStage {
  /** Below coalescing: after another process's fetch, read first; otherwise fetch and store. */
  readonly writer: LookupStage;
  private readonly getSync: ((key: string, now?: number) => unknown) | undefined;
  /** The store decides expiry on our clock: `readSync` hands it our `now`. */
  private readonly sameClock: boolean;
  private readonly setSync: SyncWritable[typeof SET_SYNC];

  constructor(private readonly options: CacheStageOptions) {
    this.getSync = (options.store as SyncReadable)[GET_SYNC];
    this.sameClock = (options.store as SyncReadable)[STORE_CLOCK] === options.clock;
    // A wrapper that spreads the memory store but replaces `set` loses the marker, so its own set runs.
    this.setSync = (options.store.set as SyncWritable)[SET_SYNC];
    this.writer = {
      execute: (context, next) =>
        context.fetchedElsewhere
          ? this.read(context.key).then((hit) => hit ?? this.fetchAndKeep(context, next))
          : this.fetchAndKeep(context, next),
    };
  }

  /** True when `readSync` can answer (an in-memory store). */
  get readsSync(): boolean {
    return this.getSync !== undefined;
  }

  /** A fresh entry from a store that reads synchronously (the fast path of a hit: no promise, no result object); undefined on a miss or for other stores. */
  readSync(key: string, now: number = this.options.clock.now()): CacheEntry<ProviderOutcome> | undefined {
    const entry = this.getSync?.(key, this.sameClock ? now : undefined) as CacheEntry<ProviderOutcome> | undefined;
    return entry && entry.expiresAt > now ? entry : undefined;
  }

  execute(context: LookupContext, next: Next<LookupContext, FetchResult>): Promise<FetchResult> {
    if (!context.refresh) {
      if (!this.getSync) return this.read(context.key).then((hit) => hit ?? this.miss(context, next));
      const entry = this.readSync(context.key);
      if (entry) return Promise.resolve(hitOf(entry));
    }
    return this.miss(context, next);
  }

  /** The rest of the chain, unless the lookup may only be answered from the cache. */
  private miss(context: LookupContext, next: Next<LookupContext, FetchResult>): Promise<FetchResult> {
    return context.cacheOnly ? Promise.reject(notCached(this.options.instance, true)) : next(context);
  }

  /** A fresh entry, or undefined. A read failure is a miss, unless the store refuses (X_STORE_UNAVAILABLE). */
  private async read(key: string): Promise<FetchResult | undefined> {
    if (this.getSync) {
      const fresh = this.readSync(key);
      return fresh && hitOf(fresh);
    }
    let entry: CacheEntry<ProviderOutcome> | undefined;
    try {
      entry = await this.options.store.get<ProviderOutcome>(key);
    } catch (error) {
      // A store configured to refuse when unavailable says so; anything else is a miss.
      if (isXEnrichError(error) && error.code === 'X_STORE_UNAVAILABLE') throw error;
      this.options.logger.warn({ err: messageOf(error) }, 'cache read failed; treating as a miss');
      return undefined;
    }
    if (!entry || entry.expiresAt <= this.options.clock.now()) return undefined;
    return hitOf(entry);
  }

  /** Promise chains, not async functions: this is the miss path. */
  private fetchAndKeep(context: LookupContext, next: Next<LookupContext, FetchResult>): Promise<FetchResult> {
    return next(context).then((result) => this.keep(context, result));
  }

  private keep(context: LookupContext, result: FetchResult): FetchResult | Promise<FetchResult> {
    if (result.fromCache) return result;
    const entry = this.entryFor(context.observable, result.outcome, result.fetchedAt);
    if (!entry) return result;
    if (this.setSync) {
      try {
        this.setSync(context.key, entry);
      } catch (error) {
        this.writeFailed(error);
      }
      return result;
    }
    return this.options.store.set(context.key, entry).then(
      () => result,
      (error: unknown) => (this.writeFailed(error), result),
    );
  }

  /** What to store for an outcome, or undefined when it is not cached (pending, TTL 0). */
  entryFor(observable: Observable, outcome: ProviderOutcome, fetchedAt: number): CacheEntry<ProviderOutcome> | undefined {
    if (outcome.kind === 'pending') return undefined;
    const ttl = outcome.kind === 'found' ? (this.options.ttlMs[observable.type] ?? DEFAULT_TTL_MS) : this.options.notFoundTtlMs;
    if (ttl <= 0) return undefined;
    // The raw upstream response is not cached: it can be large, and hosts ask for it per run.
    let value: ProviderOutcome = outcome;
    if (outcome.raw !== undefined) {
      const { raw: _raw, ...rest } = outcome;
      value = rest as ProviderOutcome;
    }
    return { value, storedAt: fetchedAt, expiresAt: fetchedAt + ttl };
  }

  private writeFailed(error: unknown): void {
    this.options.logger.warn({ err: messageOf(error) }, 'cache write failed');
  }
}
