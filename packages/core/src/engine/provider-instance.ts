import type { DependencyContainer } from 'tsyringe';
import { cacheKey, optionsFingerprint } from '../cache/cache-key.js';
import { GET_SYNC, SET_SYNC, type SyncReadable, type SyncWritable } from '../cache/memory-cache-store.js';
import type { Clock } from '../di/tokens.js';
import { XEnrichError, isXEnrichError } from '../errors/x-enrich-error.js';
import { createSecretScrubber, type SecretScrubber } from '../config/secret.js';
import { createHttpClient } from '../http/http-client.js';
import type { Logger } from '../logging/logger.js';
import type { Observable, ObservableType } from '../observable/observable-type.js';
import type { LoadedProvider } from '../plugin/loaded-provider.js';
import type { EnrichContext, EnrichmentProvider, ProviderOutcome, TraceStep } from '../plugin/provider.js';
import { createRateLimiter } from '../rate-limit/rate-limiter.js';
import { abortError } from '../rate-limit/sleep.js';
import { NEVER_ABORTED, type AttemptContext } from '../resilience/attempt-timeout.js';
import { createResiliencePolicies, type ResiliencePolicies } from '../resilience/policies.js';
import type { ResultRecord } from '../result/result-record.js';
import type { CacheEntry, CacheStore } from '../stores/cache-store.js';
import type { CoalescingStore, RateLimiter, RateLimitStore } from '../stores/rate-limit-store.js';
import { Batcher } from './batcher.js';
import type { EnricherEvent, InstanceStats, ProviderInfo } from './events.js';
import { emptyRecord, outcomeRecord } from './records.js';
import { SharedSignal, raceSignal } from './shared-signal.js';
import { outcomeProblem } from './check-outcome.js';
import { registerProvider } from './registration.js';

const DEFAULT_TTL_MS = 3_600_000;
const DEFAULT_NOT_FOUND_TTL_MS = 600_000;

export interface InstanceDeps {
  container: DependencyContainer | undefined;
  cacheStore: CacheStore | undefined;
  rateLimitStore: RateLimitStore;
  coalescingStore: CoalescingStore | undefined;
  logger: Logger;
  clock: Clock;
  secrets: readonly string[];
  /** Lookups the enricher runs at once: sizes the keep-alive sockets when no bulkhead does. */
  concurrency: number;
  /** Undefined when nobody listens, so no event objects are built. */
  emit: ((event: EnricherEvent) => void) | undefined;
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

interface FetchResult {
  outcome: ProviderOutcome;
  fetchedAt: number;
  /** Set when another process fetched it and we read its cache entry. */
  fromCache?: boolean;
}

interface Flight {
  promise: Promise<FetchResult>;
  shared: SharedSignal;
}

function notCached(instance: string, caching: boolean): XEnrichError {
  const why = caching ? 'has no unexpired cached result for it' : 'does not cache (cache: false)';
  return new XEnrichError('X_NOT_CACHED', `Instance "${instance}" ${why}; only a lookup (which may spend quota) can answer.`, { retryable: false });
}

/**
 * One provider instance inside the engine: its child container and provider, rate limiter,
 * policies, cache settings, in-flight map, batcher and counters. `lookup` never rejects.
 */
export class ProviderInstance {
  readonly name: string;
  readonly provider: EnrichmentProvider;
  readonly limiter: RateLimiter;
  readonly stats: InstanceStats;
  /** When the current stretch of waiting for quota began (valid while stats.waitingForQuota > 0). */
  private readonly quotaBlock = { since: 0 };
  private readonly ref: ResultRecord['provider'];
  private readonly policies: ResiliencePolicies;
  private readonly fingerprint: string;
  private readonly cache: CacheStore | undefined;
  private readonly ttlMs: Partial<Record<Observable['type'], number>>;
  private readonly notFoundTtlMs: number;
  private readonly inflight = new Map<string, Flight>();
  /** One batcher per batch group (see `manifest.batch.groups`); types without one use `enrich`. */
  private readonly batchers = new Map<ObservableType, Batcher>();
  private readonly types: ReadonlySet<string>;
  private readonly logger: Logger;
  private readonly claimTtlMs: number;
  private readonly getSync: ((key: string) => unknown) | undefined;
  private readonly setSync: SyncWritable[typeof SET_SYNC];
  /** The cache key `lookupFast` built last and its observable, so `lookup` right after it need not build it again. */
  private lastKey = '';
  private lastKeyOf: Observable | undefined;
  /** `<instance>:<fingerprint>:`, the constant start of every cache key (see `cacheKey`). */
  private readonly keyPrefix: string;
  private readonly scrub: SecretScrubber;
  private readonly http: ReturnType<typeof createHttpClient>;

  constructor(
    private readonly loaded: LoadedProvider,
    private readonly deps: InstanceDeps,
  ) {
    const { manifest, config, name } = loaded;
    this.name = name;
    this.scrub = createSecretScrubber(deps.secrets);
    this.logger = deps.logger.child({ provider: name });
    this.types = new Set(manifest.observableTypes);
    this.ref = {
      name,
      plugin: manifest.id,
      version: manifest.version,
      ...(manifest.lifecycle.status !== 'active' ? { lifecycle: manifest.lifecycle } : {}),
    };
    this.fingerprint = optionsFingerprint(loaded.options);
    this.keyPrefix = cacheKey(name, this.fingerprint, { type: 'ipv4', value: '' }).slice(0, -'ipv4:'.length);
    this.cache = config.cache === false ? undefined : deps.cacheStore;
    this.getSync = (this.cache as SyncReadable | undefined)?.[GET_SYNC];
    this.setSync = (this.cache?.set as SyncWritable | undefined)?.[SET_SYNC];
    const cacheConfig = config.cache === false ? {} : config.cache;
    this.ttlMs = { ...manifest.defaultCacheTtlMs, ...cacheConfig.ttl };
    this.notFoundTtlMs = cacheConfig.notFoundTtl ?? manifest.defaultNotFoundTtlMs ?? DEFAULT_NOT_FOUND_TTL_MS;

    const emit = deps.emit ?? ((): void => undefined);
    this.stats = {
      lookups: 0,
      cacheHits: 0,
      coalesced: 0,
      upstreamCalls: 0,
      errors: {},
      retries: 0,
      timeouts: 0,
      bulkheadRejections: 0,
      circuitState: 'closed',
      quotaWaitMs: 0,
      quotaBlockedMs: 0,
      waitingForQuota: 0,
    };
    const stats = this.stats;
    const blocked = this.quotaBlock;

    const windows = config.rateLimit === false ? [] : (config.rateLimit ?? manifest.defaultRateLimits);
    const base = createRateLimiter({ key: name, windows, store: deps.rateLimitStore, clock: deps.clock, maxWaitMs: config.maxRateLimitWait });
    // Waiting for budget is counted for metrics. (The upstream client pauses the attempt's
    // timeout meanwhile, through the context it is given.)
    this.limiter = {
      get waitedMs() {
        return base.waitedMs;
      },
      remaining: () => base.remaining(),
      acquire: async (cost, signal) => {
        const before = Date.now();
        // Wall-clock time blocked on quota: from the first waiter in to the last one out.
        if (stats.waitingForQuota++ === 0) blocked.since = before;
        try {
          return await base.acquire(cost, signal);
        } finally {
          const after = Date.now();
          if (--stats.waitingForQuota === 0) stats.quotaBlockedMs += after - blocked.since;
          const waitedMs = after - before;
          if (waitedMs > 0 && base.waitedMs > 0) {
            stats.quotaWaitMs += waitedMs;
            emit({ type: 'rate_limit_wait', instance: name, waitedMs });
          }
        }
      },
    };

    const resilience = config.resilience;
    this.policies = createResiliencePolicies(resilience, {
      onRetry: ({ attempt, delayMs, error }) => {
        stats.retries++;
        const errorCode = isXEnrichError(error) ? error.code : undefined;
        this.logger.warn({ attempt, delayMs, code: errorCode }, 'retrying upstream call');
        emit({ type: 'retry', instance: name, attempt, delayMs, errorCode });
      },
      onCircuitStateChange: (state) => {
        stats.circuitState = state;
        (state === 'open' ? this.logger.warn : this.logger.info).call(this.logger, { circuitState: state }, `circuit ${state}`);
        emit({ type: 'circuit', instance: name, state });
      },
      onTimeout: () => {
        stats.timeouts++;
        this.logger.debug({ timeoutMs: resilience.timeout }, 'attempt timed out');
        emit({ type: 'timeout', instance: name });
      },
      onBulkheadRejected: () => {
        stats.bulkheadRejections++;
        this.logger.warn({}, 'bulkhead full');
        emit({ type: 'bulkhead_rejected', instance: name });
      },
      onAuthLatch: (state) =>
        state === 'latched'
          ? this.logger.error({ code: 'X_UPSTREAM_AUTH' }, 'the upstream refused the credentials (401/403): no more calls for this instance until a probe succeeds (CLI: for this run)')
          : this.logger.info({}, 'the upstream accepted the credentials again: calls resume'),
    }, { pausableTimeout: windows.length > 0, clock: deps.clock });
    stats.circuitState = this.policies.circuitState;
    const retries = resilience.retry === false ? 0 : resilience.retry.maxAttempts;
    const maxDelay = resilience.retry === false ? 0 : resilience.retry.maxDelay;
    this.claimTtlMs = Math.min(300_000, resilience.timeout * (retries + 1) + maxDelay * retries + 5_000);

    this.http = createHttpClient({
      rateLimiter: this.limiter,
      secrets: deps.secrets,
      logger: this.logger,
      clock: deps.clock,
      maxSockets: resilience.bulkhead === false ? deps.concurrency : resilience.bulkhead.maxConcurrent,
      onCall: (info) => emit({ type: 'http', instance: name, ...info }),
    });

    this.provider = registerProvider(loaded, { parent: deps.container, logger: this.logger, clock: deps.clock, http: this.http, limiter: this.limiter, scrub: this.scrub });
    if (this.provider.enrichMany && manifest.batch) {
      const enrichMany = this.provider.enrichMany.bind(this.provider);
      const { maxSize: manifestMax, maxWaitMs, groups = [manifest.observableTypes] } = manifest.batch;
      const instanceSize = this.provider.batchSize;
      if (instanceSize !== undefined && !(Number.isInteger(instanceSize) && instanceSize >= 1)) {
        throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `Provider "${name}" (${manifest.packageName}) has batchSize ${String(instanceSize)}; expected a whole number of 1 or more.`);
      }
      const maxSize = Math.min(manifestMax, instanceSize ?? manifestMax);
      for (const group of groups) {
        const batcher = new Batcher(maxSize, maxWaitMs, (observables, signal) =>
          this.policies.execute((attempt) => this.call(observables.length, async () => {
            const results = await enrichMany(observables, this.contextFor(attempt));
            if (!Array.isArray(results) || results.length !== observables.length) {
              throw new XEnrichError('X_PROVIDER_FAILED', `Provider "${name}" returned ${Array.isArray(results) ? results.length : 'no'} results for a batch of ${observables.length}.`);
            }
            return results.map((result) => (result instanceof Error ? this.normalizeError(result) : this.checkOutcome(result)));
          }), signal),
        );
        for (const type of group) this.batchers.set(type, batcher);
      }
    }
  }

  supports(observable: Observable): boolean {
    return this.types.has(observable.type);
  }

  /**
   * The record when it needs no waiting: an unsupported type, an aborted signal, or a hit in a
   * store that can answer synchronously. `undefined`: call `lookup`.
   */
  lookupFast(observable: Observable, input: string, options: LookupOptions): ResultRecord | undefined {
    if (!this.types.has(observable.type)) return emptyRecord(observable, input, this.ref, 'unsupported', null);
    if (options.signal?.aborted || options.refresh || options.trace || !this.getSync) return undefined;
    const started = this.deps.emit ? performance.now() : 0;
    const key = this.keyPrefix + observable.type + ':' + observable.value;
    this.lastKey = key;
    this.lastKeyOf = observable;
    const entry = this.getSync(key) as { value: ProviderOutcome; storedAt: number; expiresAt: number } | undefined;
    if (!entry) return undefined;
    const now = this.deps.clock.now();
    if (entry.expiresAt <= now) return undefined;
    this.stats.lookups++;
    this.stats.cacheHits++;
    return this.finish(outcomeRecord(observable, input, this.ref, entry.value, entry.storedAt, { storedAt: entry.storedAt, now }, false), started);
  }

  /** One record for `observable` from this instance; call after `lookupFast` returned undefined. Never rejects. */
  async lookup(observable: Observable, input: string, options: LookupOptions): Promise<ResultRecord> {
    if (!this.types.has(observable.type)) {
      return emptyRecord(observable, input, this.ref, 'unsupported', null);
    }
    // Only the lookup event uses the duration.
    const started = this.deps.emit ? performance.now() : 0;
    if (options.signal?.aborted) return this.finish(emptyRecord(observable, input, this.ref, 'skipped', abortError(options.signal)), started);
    if (options.trace) return this.traced(observable, input, options);
    this.stats.lookups++;
    const key = this.lastKeyOf === observable ? this.lastKey : this.keyPrefix + observable.type + ':' + observable.value;
    this.lastKeyOf = undefined;
    try {
      // A store with a synchronous read was already asked by lookupFast.
      if (this.cache && !options.refresh && !this.getSync) {
        const entry = await this.readCache(key);
        if (entry) {
          this.stats.cacheHits++;
          const record = outcomeRecord(observable, input, this.ref, entry.value, entry.storedAt, { storedAt: entry.storedAt, now: this.deps.clock.now() }, false);
          return this.finish(record, started);
        }
      }
      if (options.cacheOnly) return this.finish(emptyRecord(observable, input, this.ref, 'skipped', notCached(this.name, this.cache !== undefined)), started);
      let flight = this.inflight.get(key);
      if (flight) {
        this.stats.coalesced++;
        flight.shared.join(options.signal);
      } else {
        flight = this.startFlight(key, observable, options.signal);
      }
      const result = await raceSignal(flight.promise, options.signal, () => abortError(options.signal));
      const cached = result.fromCache ? { storedAt: result.fetchedAt, now: this.deps.clock.now() } : undefined;
      return this.finish(outcomeRecord(observable, input, this.ref, result.outcome, result.fetchedAt, cached, options.includeRaw), started);
    } catch (error) {
      const normalized = this.normalizeError(error);
      const status = normalized.code === 'X_ABORTED' ? 'skipped' : 'error';
      return this.finish(emptyRecord(observable, input, this.ref, status, normalized), started);
    }
  }

  private finish(record: ResultRecord, started: number): ResultRecord {
    if (record.status === 'error' && record.error) this.stats.errors[record.error.code] = (this.stats.errors[record.error.code] ?? 0) + 1;
    if (record.observable && this.deps.emit) {
      this.deps.emit({
        type: 'lookup',
        instance: this.name,
        observableType: record.observable.type,
        status: record.status,
        cacheHit: record.cache.hit,
        durationMs: performance.now() - started,
        ...(record.error ? { errorCode: record.error.code } : {}),
      });
    }
    return record;
  }

  private async readCache(key: string): Promise<{ value: ProviderOutcome; storedAt: number } | undefined> {
    if (!this.cache) return undefined;
    let entry;
    try {
      entry = await this.cache.get<ProviderOutcome>(key);
    } catch (error) {
      // A store configured to refuse when unavailable says so; anything else is a miss.
      if (isXEnrichError(error) && error.code === 'X_STORE_UNAVAILABLE') throw error;
      this.logger.warn({ err: this.normalizeError(error).message }, 'cache read failed; treating as a miss');
      return undefined;
    }
    if (!entry || entry.expiresAt <= this.deps.clock.now()) return undefined;
    return entry;
  }

  /** What to store for an outcome, or undefined when it is not cached (pending, TTL 0, no cache). */
  private cacheEntry(observable: Observable, outcome: ProviderOutcome, fetchedAt: number): CacheEntry<ProviderOutcome> | undefined {
    if (!this.cache || outcome.kind === 'pending') return undefined;
    const ttl = outcome.kind === 'found' ? (this.ttlMs[observable.type] ?? DEFAULT_TTL_MS) : this.notFoundTtlMs;
    if (ttl <= 0) return undefined;
    // The raw upstream response is not cached: it can be large, and hosts ask for it per run.
    let value: ProviderOutcome = outcome;
    if (outcome.raw !== undefined) {
      const { raw: _raw, ...rest } = outcome;
      value = rest as ProviderOutcome;
    }
    return { value, storedAt: fetchedAt, expiresAt: fetchedAt + ttl };
  }

  private async writeCache(key: string, entry: CacheEntry<ProviderOutcome>): Promise<void> {
    try {
      await this.cache?.set(key, entry);
    } catch (error) {
      this.cacheWriteFailed(error);
    }
  }

  /** `writeCache` for a store that writes synchronously (memory): no promise on the miss path. */
  private writeCacheSync(key: string, entry: CacheEntry<ProviderOutcome>, set: NonNullable<SyncWritable[typeof SET_SYNC]>): void {
    try {
      set(key, entry);
    } catch (error) {
      this.cacheWriteFailed(error);
    }
  }

  private cacheWriteFailed(error: unknown): void {
    this.logger.warn({ err: this.normalizeError(error).message }, 'cache write failed');
  }

  private startFlight(key: string, observable: Observable, firstSignal: AbortSignal | undefined): Flight {
    const shared = new SharedSignal();
    shared.join(firstSignal);
    const signal = shared.signal;
    const promise = this.fetch(key, observable, signal);
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
      shared.dispose();
    };
    promise.then(done, done);
    return flight;
  }

  private fetch(key: string, observable: Observable, signal: AbortSignal): Promise<FetchResult> {
    const coalescing = this.cache ? this.deps.coalescingStore : undefined;
    return coalescing ? this.fetchCoalesced(key, observable, signal, coalescing) : this.fetchUpstream(key, observable, signal);
  }

  /** `fetchUpstream` under a cross-process claim, so that one process fetches and the others read its result. */
  private async fetchCoalesced(key: string, observable: Observable, signal: AbortSignal, coalescing: CoalescingStore): Promise<FetchResult> {
    const claimed = await coalescing.claim(key, this.claimTtlMs).catch(() => true);
    if (!claimed) {
      // Another process is fetching it: wait for its result in the cache, then fetch ourselves if it never came.
      await coalescing.waitFor(key, this.claimTtlMs, signal).catch(() => false);
      const entry = await this.readCache(key);
      if (entry) return { outcome: entry.value, fetchedAt: entry.storedAt, fromCache: true };
    }
    try {
      return await this.fetchUpstream(key, observable, signal);
    } finally {
      if (claimed) await coalescing.release(key).catch(() => undefined);
    }
  }

  /** The provider's outcome (batched or not, under the policies), written to the cache. Promise chains, not async functions: this is the miss path. */
  private fetchUpstream(key: string, observable: Observable, signal: AbortSignal): Promise<FetchResult> {
    const batcher = this.batchers.get(observable.type);
    const outcome = batcher ? batcher.submit(observable, signal) : this.policies.execute((attempt) => this.callOne(observable, attempt), signal);
    return outcome.then((value) => this.store(key, observable, value));
  }

  private store(key: string, observable: Observable, outcome: ProviderOutcome): FetchResult | Promise<FetchResult> {
    const fetchedAt = this.deps.clock.now();
    const result: FetchResult = { outcome, fetchedAt };
    const entry = this.cacheEntry(observable, outcome, fetchedAt);
    if (entry) {
      if (this.setSync) this.writeCacheSync(key, entry, this.setSync);
      else return this.writeCache(key, entry).then(() => result);
    }
    return result;
  }

  /**
   * The provider's context; `signal` is read through, so it is only created if the provider uses
   * it. The attempt is the context's timeout handle: the upstream client pauses it while a
   * request waits for budget.
   */
  private contextFor(attempt: AttemptContext, trace?: (step: TraceStep) => void): EnrichContext {
    const logger = this.logger;
    return {
      logger,
      attemptTimeout: attempt,
      get signal() {
        return attempt.signal;
      },
      ...(trace ? { trace } : {}),
    };
  }

  /**
   * A dry run: one call through the policies with the caller's trace, answered from neither the
   * cache nor another caller's flight, and not written to the cache (a config being authored
   * must not leave answers behind).
   */
  private async traced(observable: Observable, input: string, options: LookupOptions): Promise<ResultRecord> {
    const started = this.deps.emit ? performance.now() : 0;
    this.stats.lookups++;
    try {
      const outcome = await this.policies.execute((attempt) => this.callOne(observable, attempt, options.trace), options.signal ?? NEVER_ABORTED);
      return this.finish(outcomeRecord(observable, input, this.ref, outcome, this.deps.clock.now(), undefined, options.includeRaw), started);
    } catch (error) {
      const normalized = this.normalizeError(error);
      return this.finish(emptyRecord(observable, input, this.ref, normalized.code === 'X_ABORTED' ? 'skipped' : 'error', normalized), started);
    }
  }

  /** `call` for one observable through `enrich`, without the closures `call` takes (the common miss path). */
  private async callOne(observable: Observable, attempt: AttemptContext, trace?: (step: TraceStep) => void): Promise<ProviderOutcome> {
    this.stats.upstreamCalls++;
    const emit = this.deps.emit;
    const started = emit ? performance.now() : 0;
    let outcome: ProviderOutcome;
    try {
      outcome = this.checkOutcome(await this.provider.enrich(observable, this.contextFor(attempt, trace)));
    } catch (error) {
      throw this.callFailed(error, 1, started);
    }
    emit?.({ type: 'upstream', instance: this.name, durationMs: performance.now() - started, ok: true, batchSize: 1 });
    return outcome;
  }

  /** One call into the provider: counted, timed, errors normalized (so retry sees x-enrich errors). */
  private async call<T>(batchSize: number, fn: () => Promise<T>): Promise<T> {
    this.stats.upstreamCalls++;
    const started = performance.now();
    try {
      const value = await fn();
      this.deps.emit?.({ type: 'upstream', instance: this.name, durationMs: performance.now() - started, ok: true, batchSize });
      return value;
    } catch (error) {
      throw this.callFailed(error, batchSize, started);
    }
  }

  /** The failure of a provider call, normalized and reported. */
  private callFailed(error: unknown, batchSize: number, started: number): XEnrichError {
    const normalized = this.normalizeError(error);
    const httpStatus = normalized.details.status;
    this.deps.emit?.({
      type: 'upstream',
      instance: this.name,
      durationMs: performance.now() - started,
      ok: false,
      batchSize,
      errorCode: normalized.code,
      ...(typeof httpStatus === 'number' ? { httpStatus } : {}),
    });
    return normalized;
  }

  private checkOutcome(outcome: ProviderOutcome): ProviderOutcome {
    const problem = outcomeProblem(outcome);
    if (problem) throw new XEnrichError('X_PROVIDER_FAILED', `Provider "${this.name}" returned an invalid outcome: ${problem}.`);
    return outcome;
  }

  /** Any failure as an XEnrichError with secrets removed; a non-x-enrich error is a provider bug (X_PROVIDER_FAILED). */
  normalizeError(error: unknown): XEnrichError {
    if (isXEnrichError(error)) {
      const message = this.scrub(error.message);
      return message === error.message ? error : new XEnrichError(error.code, message, { retryable: error.retryable, details: error.details });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new XEnrichError('X_PROVIDER_FAILED', `Provider "${this.name}" failed unexpectedly: ${this.scrub(message)}`);
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
      circuitState: this.policies.circuitState,
      rateLimit: await this.limiter.remaining().catch(() => []),
      batch: this.batchers.size > 0 && manifest.batch ? { ...manifest.batch } : null,
    };
  }

  snapshot(): InstanceStats {
    const { stats } = this;
    const quotaBlockedMs = stats.quotaBlockedMs + (stats.waitingForQuota > 0 ? Date.now() - this.quotaBlock.since : 0);
    return { ...stats, errors: { ...stats.errors }, circuitState: this.policies.circuitState, quotaBlockedMs };
  }

  async close(): Promise<void> {
    try {
      await this.provider.close?.();
    } finally {
      this.http.close();
    }
  }
}
