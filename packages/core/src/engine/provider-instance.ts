import type { DependencyContainer } from 'tsyringe';
import { cacheKey, optionsFingerprint } from '../cache/cache-key.js';
import { createSecretScrubber, type SecretScrubber } from '../contract/secret.js';
import type { Clock } from '../contract/tokens.js';
import { createHttpClient } from '../http/http-client.js';
import { registerProvider } from '../plugin/register-provider.js';
import type { Logger } from '../contract/logger.js';
import type { Observable } from '../contract/observable-type.js';
import type { LoadedProvider } from '../plugin/loaded-provider.js';
import type { EnrichmentProvider, TraceStep } from '../contract/provider.js';
import { createRateLimiter, quotaKey } from '../rate-limit/rate-limiter.js';
import { abortError } from '../contract/sleep.js';
import type { ResultRecord } from '../contract/result-record.js';
import type { CacheStore } from '../contract/cache-store.js';
import type { CoalescingStore, RateLimiter, RateLimitStore } from '../contract/rate-limit-store.js';
import type { EnricherEvent, InstanceStats, ProviderInfo } from './events.js';
import { emptyRecord, outcomeRecord } from './records.js';
import { BatchStage, batchSettings } from './stages/batch.js';
import { CacheStage, DEFAULT_NOT_FOUND_TTL_MS, notCached } from './stages/cache.js';
import { CallStage, normalizeError } from './stages/call.js';
import { CoalesceStage } from './stages/coalesce.js';
import { GuardStage, guardLimiter } from './stages/guard.js';
import { NEVER_ABORTED } from '../resilience/attempt-timeout.js';
import { link, type CallContext, type CallResult, type Emit, type FetchResult, type LookupContext, type Next } from './stages/stage.js';
import { StatsCollector } from './stats.js';

export interface InstanceDeps {
  /** This instance's position among the enricher's instances (its index into a parsed input's cache keys). Default 0. */
  slot?: number;
  container: DependencyContainer | undefined;
  cacheStore: CacheStore | undefined;
  rateLimitStore: RateLimitStore;
  coalescingStore: CoalescingStore | undefined;
  logger: Logger;
  clock: Clock;
  secrets: readonly string[];
  /** Lookups the enricher runs at once: sizes the keep-alive sockets when no bulkhead does. */
  concurrency: number;
  /** The host's `onEvent`; undefined when nobody listens, so durations are not measured. */
  emit: ((event: EnricherEvent) => void) | undefined;
  /** Whether a call in progress asked for raw responses (`includeRaw`); outcomes drop `raw` otherwise. Default: always. */
  keepsRaw?: () => boolean;
}

export interface LookupOptions {
  signal: AbortSignal | undefined;
  refresh: boolean;
  includeRaw: boolean;
  /** A miss is a `skipped` record (X_NOT_CACHED) instead of an upstream call. */
  cacheOnly?: boolean;
  /** A traced lookup (a dry run): no cache, no coalescing; the provider reports its steps here. */
  trace?: (step: TraceStep) => void;
}

/** `record`, written to `into[at]` first when `into` is given. */
function put(record: ResultRecord, into: ResultRecord[] | undefined, at: number): ResultRecord {
  if (into) into[at] = record;
  return record;
}

const unreachable: Next<never, never> = () => Promise.reject(new Error('the call stage is the end of the chain'));

/**
 * One provider instance inside the engine. It registers the provider (`registerProvider`),
 * assembles the lookup chain cache -> coalesce -> batch -> guard -> call (each stage in
 * `stages/`, linked once here as cockatiel's `wrap` links policies), turns what comes back into
 * a result record, and keeps its stats from the stages' events. `lookup` never rejects.
 */
export class ProviderInstance {
  readonly name: string;
  /** See `InstanceDeps.slot`. */
  readonly slot: number;
  readonly provider: EnrichmentProvider;
  readonly limiter: RateLimiter;
  private readonly ref: ResultRecord['provider'];
  private readonly types: ReadonlySet<string>;
  private readonly clock: Clock;
  private readonly scrub: SecretScrubber;
  private readonly http: ReturnType<typeof createHttpClient>;
  private readonly stats: StatsCollector;
  private readonly emit: Emit;
  /** True when the host listens: only its lookup events carry a duration. */
  private readonly timed: boolean;
  private readonly cache: CacheStage | undefined;
  private readonly guard: GuardStage;
  private readonly batch: BatchStage;
  private readonly fetch: Next<LookupContext, FetchResult>;
  /** The end of the chain alone (guard -> call), for traced dry runs. */
  private readonly callGuarded: Next<CallContext, CallResult>;
  /** The chain below the cache stage's read (coalesce -> cache writer -> batch -> ...), for a miss `lookupFast` already read. */
  private readonly fetchAfterRead: Next<LookupContext, FetchResult>;
  /** `<instance>:<fingerprint>:`, the constant start of every cache key (see `cacheKey`). */
  private readonly keyPrefix: string;

  constructor(
    private readonly loaded: LoadedProvider,
    deps: InstanceDeps,
  ) {
    const { manifest, config, name } = loaded;
    this.name = name;
    this.slot = deps.slot ?? 0;
    this.clock = deps.clock;
    this.scrub = createSecretScrubber(deps.secrets);
    const logger = deps.logger.child({ provider: name });
    this.types = new Set(manifest.observableTypes);
    this.ref = {
      name,
      plugin: manifest.id,
      version: manifest.version,
      ...(manifest.lifecycle.status !== 'active' ? { lifecycle: manifest.lifecycle } : {}),
    };
    this.keyPrefix = cacheKey(name, optionsFingerprint(loaded.options), { type: 'ipv4', value: '' }).slice(0, -'ipv4:'.length);

    // Stats listen to every event; the host gets the public ones.
    this.stats = new StatsCollector(deps.clock, () => this.guard.circuitState);
    const host = deps.emit;
    this.timed = host !== undefined;
    this.emit = host
      ? (event) => {
          this.stats.observe(event);
          if (event.type !== 'coalesced' && event.type !== 'quota_wait') host(event);
        }
      : (event) => this.stats.observe(event);
    const emit = this.emit;

    const windows = config.rateLimit === false ? [] : (config.rateLimit ?? manifest.defaultRateLimits);
    // A quota group's instances spend one budget, under the group's key.
    const base = createRateLimiter({ key: config.quota !== undefined ? quotaKey(config.quota) : name, windows, store: deps.rateLimitStore, clock: deps.clock, maxWaitMs: config.maxRateLimitWait, logger });
    this.limiter = guardLimiter(base, { instance: name, clock: deps.clock, emit });
    const resilience = config.resilience;
    this.http = createHttpClient({
      rateLimiter: this.limiter,
      secrets: deps.secrets,
      logger,
      clock: deps.clock,
      maxSockets: resilience.bulkhead === false ? deps.concurrency : resilience.bulkhead.maxConcurrent,
      onCall: (info) => emit({ type: 'http', instance: name, ...info }),
    });
    this.provider = registerProvider(loaded, deps.container, { logger, clock: deps.clock, http: this.http, rateLimiter: this.limiter }, deps.secrets);

    this.guard = new GuardStage({ instance: name, resilience, clock: deps.clock, logger, emit, pausableTimeout: windows.length > 0 });
    this.batch = new BatchStage(deps.clock, batchSettings(this.provider, manifest, name));
    const call = new CallStage({ instance: name, provider: this.provider, logger, scrub: this.scrub, emit, keepsRaw: deps.keepsRaw, ...(host ? {} : { countUpstream: () => this.stats.countUpstream() }) });
    const cacheStore = config.cache === false ? undefined : deps.cacheStore;
    const cacheConfig = config.cache === false ? {} : config.cache;
    this.cache = cacheStore
      ? new CacheStage({
          instance: name,
          store: cacheStore,
          ttlMs: { ...manifest.defaultCacheTtlMs, ...cacheConfig.ttl },
          notFoundTtlMs: cacheConfig.notFoundTtl ?? manifest.defaultNotFoundTtlMs ?? DEFAULT_NOT_FOUND_TTL_MS,
          clock: deps.clock,
          logger,
        })
      : undefined;
    // A cross-process claim outlives the longest fetch: every attempt timing out, every backoff at its longest.
    const retries = resilience.retry === false ? 0 : resilience.retry.maxAttempts;
    const maxDelay = resilience.retry === false ? 0 : resilience.retry.maxDelay;
    const coalesce = new CoalesceStage({
      instance: name,
      emit,
      store: this.cache ? deps.coalescingStore : undefined,
      claimTtlMs: Math.min(300_000, resilience.timeout * (retries + 1) + maxDelay * retries + 5_000),
    });

    this.callGuarded = link(this.guard, link(call, unreachable));
    const toBatch = link(this.batch, this.callGuarded);
    this.fetchAfterRead = this.cache ? link(coalesce, link(this.cache.writer, toBatch)) : link(coalesce, toBatch);
    this.fetch = this.cache ? link(this.cache, this.fetchAfterRead) : this.fetchAfterRead;
  }

  supports(observable: Observable): boolean {
    return this.types.has(observable.type);
  }

  /** The cache key of `observable` here, also its coalescing key (`cacheKey`); the enricher keeps it with the parsed input. */
  keyFor(observable: Observable): string {
    return this.keyPrefix + observable.type + ':' + observable.value;
  }

  /**
   * The record when it needs no waiting: an unsupported type, or a hit in a store that can
   * answer synchronously (the cache stage's fast path). `undefined`: call `lookup`, with
   * `afterFast` true. `key`: `keyFor(observable)`.
   */
  lookupFast(observable: Observable, input: string, key: string, options: LookupOptions): ResultRecord | undefined {
    if (!this.types.has(observable.type)) return emptyRecord(observable, input, this.ref, 'unsupported', null);
    const cache = this.cache;
    if (options.signal?.aborted || options.refresh || options.trace || !cache?.readsSync) return undefined;
    const started = this.timed ? performance.now() : 0;
    // One reading of the clock for the whole hit: expiry (here and in the store) and the record's age.
    const now = this.clock.now();
    const entry = cache.readSync(key, now);
    if (!entry) return undefined;
    return this.finish(outcomeRecord(observable, input, this.ref, entry.value, entry.storedAt, now, false), started);
  }

  /**
   * One record for `observable` from this instance, also written to `into[at]` when given. Never rejects. `afterFast`: `lookupFast`
   * was called for this lookup just before (synchronously) and answered nothing, so a cache
   * that reads synchronously has been read already and the chain starts below that read.
   */
  lookup(observable: Observable, input: string, key: string, options: LookupOptions, afterFast = false, into?: ResultRecord[], at = 0): Promise<ResultRecord> {
    if (!this.types.has(observable.type)) return Promise.resolve(put(emptyRecord(observable, input, this.ref, 'unsupported', null), into, at));
    // Only the lookup event uses the duration.
    const started = this.timed ? performance.now() : 0;
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve(put(this.finish(emptyRecord(observable, input, this.ref, 'skipped', abortError(signal)), started), into, at));
    if (options.trace) return into ? this.traced(observable, input, options, started).then((record) => put(record, into, at)) : this.traced(observable, input, options, started);
    let fetching: Promise<FetchResult>;
    try {
      const cacheOnly = options.cacheOnly ?? false;
      if (cacheOnly && !this.cache) {
        // Without a cache stage nothing can answer a cache-only lookup.
        fetching = Promise.reject(notCached(this.name, false));
      } else if (afterFast && !options.refresh && this.cache?.readsSync) {
        // `lookupFast` read this key a moment ago and missed: one cache read per miss, not two.
        fetching = cacheOnly ? Promise.reject(notCached(this.name, true)) : this.fetchAfterRead({ observable, key, signal, refresh: false, cacheOnly: false });
      } else {
        fetching = this.fetch({ observable, key, signal, refresh: options.refresh, cacheOnly });
      }
    } catch (error) {
      fetching = Promise.reject(error);
    }
    // The record goes straight into the caller's result (`into[at]`): no promise of its own for that.
    return fetching.then(
      (result) => put(this.finish(this.recordOf(observable, input, result, options.includeRaw), started), into, at),
      (error: unknown) => put(this.failed(observable, input, error, started), into, at),
    );
  }

  /**
   * A dry run: one call through the guard with the caller's trace, answered from neither the
   * cache nor another caller's flight, and not written to the cache (a config being authored
   * must not leave answers behind).
   */
  private traced(observable: Observable, input: string, options: LookupOptions, started: number): Promise<ResultRecord> {
    const context: CallContext = { observables: [observable], batch: false, signal: options.signal ?? NEVER_ABORTED, trace: options.trace };
    return this.callGuarded(context).then(
      (results) => {
        const outcome = results[0];
        if (outcome instanceof Error) throw outcome;
        return this.finish(this.recordOf(observable, input, { outcome: outcome as FetchResult['outcome'], fetchedAt: this.clock.now(), fromCache: false }, options.includeRaw), started);
      },
    ).catch((error: unknown) => this.failed(observable, input, error, started));
  }

  private failed(observable: Observable, input: string, error: unknown, started: number): ResultRecord {
    const normalized = normalizeError(error, this.name, this.scrub);
    const skipped = normalized.code === 'X_ABORTED' || normalized.code === 'X_NOT_CACHED';
    return this.finish(emptyRecord(observable, input, this.ref, skipped ? 'skipped' : 'error', normalized), started);
  }

  private recordOf(observable: Observable, input: string, result: FetchResult, includeRaw: boolean): ResultRecord {
    return outcomeRecord(observable, input, this.ref, result.outcome, result.fetchedAt, result.fromCache ? this.clock.now() : undefined, includeRaw && !result.fromCache);
  }

  private finish(record: ResultRecord, started: number): ResultRecord {
    const observable = record.observable;
    if (!this.timed) {
      // Nobody listens: count it without building the event.
      if (observable) this.stats.countLookup(record.status, record.cache.hit, record.error?.code);
      return record;
    }
    if (observable) {
      const event: Extract<EnricherEvent, { type: 'lookup' }> = {
        type: 'lookup',
        instance: this.name,
        observableType: observable.type,
        status: record.status,
        cacheHit: record.cache.hit,
        durationMs: this.timed ? performance.now() - started : 0,
      };
      if (record.error) event.errorCode = record.error.code;
      this.emit(event);
    }
    return record;
  }

  /** Counts an error record the enricher made for this instance without a lookup (an input that does not parse). */
  countError(code: string): void {
    this.stats.countError(code);
  }

  async info(): Promise<ProviderInfo> {
    const { manifest } = this.loaded;
    return {
      name: this.name,
      plugin: manifest.id,
      packageName: manifest.packageName,
      version: manifest.version,
      displayName: manifest.displayName,
      types: [...manifest.observableTypes],
      lifecycle: manifest.lifecycle,
      circuitState: this.guard.circuitState,
      rateLimit: await this.limiter.remaining().catch(() => []),
      batch: this.batch.batching && manifest.batch ? { ...manifest.batch } : null,
    };
  }

  snapshot(): InstanceStats {
    const stats = this.stats.snapshot();
    const quota = this.limiter.snapshot?.();
    return quota && quota.windows.length > 0 ? { ...stats, quota } : stats;
  }

  /**
   * Publishes that `lookups` more lookups are expected here (in upstream requests: a batching
   * provider sends one per batch) and reads the budget again, for `stats().quota`.
   */
  async expectLookups(lookups: number): Promise<void> {
    const perLookup = this.batch.batching && this.loaded.manifest.batch ? 1 / this.loaded.manifest.batch.maxSize : 1;
    // A store that cannot answer now leaves the last-known quota in the stats: an estimate is
    // no reason to fail a run (the lookups themselves report the store's problem).
    await this.limiter.refresh?.(Math.ceil(Math.max(0, lookups) * perLookup)).catch(() => undefined);
  }

  async close(): Promise<void> {
    try {
      await this.provider.close?.();
    } finally {
      this.http.close();
    }
  }
}
