import { setMaxListeners } from 'node:events';
import type { DependencyContainer } from 'tsyringe';
import { createMemoryCacheStore } from '../cache/memory-cache-store.js';
import { systemClock, type Clock } from '../contract/tokens.js';
import { XEnrichError } from '../contract/x-enrich-error.js';
import { silentLogger, type Logger } from '../contract/logger.js';
import { createRedactingLogger } from '../logging/redacting-logger.js';
import { collectSecrets } from '../config/redact.js';
import type { Observable } from '../contract/observable-type.js';
import { specialAddress, type SpecialAddress } from '../observable/special-address.js';
import type { LoadedProvider } from '../plugin/loaded-provider.js';
import { assertUniqueProviderNames } from '../plugin/loader.js';
import type { TraceStep } from '../contract/provider.js';
import { createMemoryRateLimitStore } from '../rate-limit/memory-rate-limit-store.js';
import type { ObservableSummary, ResultRecord } from '../contract/result-record.js';
import type { CacheStore } from '../contract/cache-store.js';
import type { CoalescingStore, RateLimitStore } from '../contract/rate-limit-store.js';
import type { EnricherEvent, EnricherStats, ProviderInfo } from './events.js';
import { toParsedInput, type ParsedInput } from './input.js';
import { ProviderInstance, type LookupOptions } from './provider-instance.js';
import { emptyRecord, summarize } from './records.js';
import { defaultWindow, orderedPool } from '../stream/ordered-pool.js';

export interface EnricherOptions {
  /** Loaded provider instances (`loadProviders` or `prepareProvider`), in the order records are produced. */
  providers: readonly LoadedProvider[];
  /** Where outcomes are cached; default an in-memory LRU of 100,000 entries; `false` disables caching. A store passed in is not closed by `close()`. */
  cacheStore?: CacheStore | false;
  /** Where rate-limit budgets are kept; default in memory. Pass a shared store to share budgets between processes. */
  rateLimitStore?: RateLimitStore;
  /** Cross-process in-flight coalescing (in-process coalescing is always on). */
  coalescingStore?: CoalescingStore;
  /** The host's logger (pino-compatible); the engine wraps it with `createRedactingLogger` for the providers' secrets. */
  logger?: Logger;
  /** The host's container; each instance gets a child of it. Default: a child of tsyringe's root container. */
  container?: DependencyContainer;
  clock?: Clock;
  /** Values to remove from every log line and error message. Default: the secret-marked options of `providers` (`collectSecrets`). */
  secrets?: readonly string[];
  /** Observables looked up at once (each against every provider). Default 16. */
  concurrency?: number;
  /** Metrics hook; called synchronously, exceptions are swallowed. */
  onEvent?: (event: EnricherEvent) => void;
  /**
   * Send private and special addresses (RFC 1918, loopback, link-local, unspecified, multicast,
   * IPv4 and IPv6) upstream too. Default false: their records are `skipped` with the reason,
   * and no quota is spent on them (config key `lookupPrivateAddresses`).
   */
  lookupPrivateAddresses?: boolean;
}

export interface EnrichOptions {
  signal?: AbortSignal;
  /** Skip cache reads (results are still written). */
  refresh?: boolean;
  /** Only these instance names (default: all), in configured order. */
  providers?: readonly string[];
  /** Overrides the enricher's concurrency for this call. */
  concurrency?: number;
  /** Put the upstream's raw response into fresh (non-cached) records. */
  includeRaw?: boolean;
  /**
   * Answer from the cache only, never upstream: a miss is a `skipped` record with code
   * X_NOT_CACHED, and no quota is spent (what an agent's resource read needs).
   */
  cacheOnly?: boolean;
  /**
   * A dry run: each lookup bypasses the cache and in-flight coalescing, is not cached, and the
   * provider reports its steps here (`x-enrich providers test`). Meant for one observable and
   * one provider at a time.
   */
  trace?: (step: TraceStep) => void;
  /**
   * `stream` only: inputs started and not yet yielded (the reorder buffer that keeps input order
   * while later lookups overtake a slow one). Default `max(1024, 64 x concurrency)`.
   */
  window?: number;
}

export type EnricherInput = string | Observable;

export interface EnrichResult {
  /** Input-major, providers in configured order: `records[i * providers + j]`. */
  records: ResultRecord[];
  /** One per input, in input order. */
  summaries: ObservableSummary[];
}

export interface StreamItem {
  records: ResultRecord[];
  summary: ObservableSummary;
}

export interface Enricher {
  /**
   * Looks every input up with every selected provider. Resolves with exactly one record per
   * input x provider in a stable order, whatever fails; it rejects only for caller mistakes
   * (an unknown provider name, a closed enricher), never for upstream problems.
   */
  enrich(inputs: Iterable<EnricherInput>, options?: EnrichOptions): Promise<EnrichResult>;
  /**
   * `enrich` for a caller that answers at once what is answered at once: the result itself when
   * every lookup was answered synchronously (cache hits in memory: no promise, no microtask),
   * else the promise `enrich` would have given. A caller mistake (an unknown provider name, a
   * closed enricher) is thrown rather than rejected. For a service answering cached requests,
   * whose per-request promises and awaits are a visible share of the request (docs/performance.md).
   * Optional: an Enricher of another making may not have it; `enrich` is always there.
   */
  enrichNow?(inputs: Iterable<EnricherInput>, options?: EnrichOptions): EnrichResult | Promise<EnrichResult>;
  /**
   * The same over an async iterable, one item per input in input order, with bounded concurrency;
   * a slow lookup does not hold back the lookups after it (`window` bounds the reorder buffer).
   */
  stream(inputs: AsyncIterable<EnricherInput> | Iterable<EnricherInput>, options?: EnrichOptions): AsyncIterable<StreamItem>;
  /** Instance descriptions with circuit state and remaining quota (async: a shared store may be asked). */
  providers(): Promise<ProviderInfo[]>;
  /** Counters per instance name, with circuit state and the quota as last known (synchronous: no store is asked). */
  stats(): EnricherStats;
  /**
   * Says how many lookups this host still expects to send (cache hits excluded when it can
   * tell), per selected instance: each publishes it as its demand in the rate-limit store, so
   * the others sharing the budget (processes of a fleet, a quota group) count it in their
   * estimates, and reads its budget again for `stats().quota`. Call it every few seconds during
   * a long run (a demand not published again within DEMAND_TTL_MS is forgotten: a crashed
   * process stops counting), and with 0 at the end.
   */
  expectLookups(lookups: number, options?: { providers?: readonly string[] }): Promise<void>;
  /** Calls every provider's `close`; closes the stores it made itself (stores passed in stay their opener's to close). */
  close(): Promise<void>;
}

/** Calls with at most this many inputs try to answer from the cache before starting workers (`enrich`). */
const DIRECT_MAX = 64;

const noRelease = (): void => undefined;

/**
 * Builds the engine over loaded provider instances. Each lookup goes parse -> cache ->
 * in-flight coalescing (-> batch) -> resilience policies (retry, circuit breaker, bulkhead,
 * timeout) -> provider, whose HTTP requests wait for rate-limit budget; the outcome becomes a
 * result record. Throws `X_PLUGIN_REGISTER_FAILED` if a plugin cannot be registered.
 */
export function createEnricher(options: EnricherOptions): Enricher {
  const onEvent = options.onEvent;
  const emit = onEvent
    ? (event: EnricherEvent): void => {
        try {
          onEvent(event);
        } catch {
          // A metrics hook must never break a lookup.
        }
      }
    : undefined;
  const clock = options.clock ?? systemClock;
  // Stores passed in belong to whoever opened them (`openStores`), who closes them once; the
  // engine closes only the defaults it made itself.
  const ownStores: Array<{ close?(): Promise<void> }> = [];
  const cacheStore = options.cacheStore === false ? undefined : (options.cacheStore ?? own(createMemoryCacheStore({ maxEntries: 100_000, clock })));
  const rateLimitStore = options.rateLimitStore ?? own(createMemoryRateLimitStore());
  function own<S extends { close?(): Promise<void> }>(store: S): S {
    ownStores.push(store);
    return store;
  }
  const secrets = options.secrets ?? collectSecrets(options.providers);
  // Secrets are scrubbed from everything the engine and providers log, whatever the host logger is.
  const logger = options.logger && secrets.length > 0 ? createRedactingLogger(options.logger, secrets) : (options.logger ?? silentLogger);
  const defaultConcurrency = Math.max(1, options.concurrency ?? 16);
  // Calls in progress that asked for raw responses (`includeRaw`). While there are none, the
  // call stage drops `raw` from each outcome as it arrives: carried up the chain it made the
  // parsed upstream bodies outlive a scavenge (docs/performance.md, "Misses, third round"). A call
  // counts from its start, before any of its lookups can join another call's flight; the one gap
  // is a raw-asking call that starts, and joins a flight, in the few microtasks between that
  // flight's outcome arriving without raw and the flight ending.
  let rawCalls = 0;
  const keepsRaw = (): boolean => rawCalls > 0;

  assertUniqueProviderNames(options.providers);
  const instances = options.providers.map(
    (loaded, slot) =>
      new ProviderInstance(loaded, {
        slot,
        container: options.container,
        cacheStore,
        rateLimitStore,
        coalescingStore: options.coalescingStore,
        logger,
        clock,
        secrets,
        concurrency: defaultConcurrency,
        emit,
        keepsRaw,
      }),
  );
  let closed = false;

  function select(names: readonly string[] | undefined): ProviderInstance[] {
    if (closed) throw new XEnrichError('X_ABORTED', 'The enricher is closed.');
    if (!names) return instances;
    const unknown = names.filter((name) => !instances.some((instance) => instance.name === name));
    if (unknown.length > 0) {
      throw new XEnrichError('X_CONFIG_INVALID', `Unknown provider instance ${unknown.map((n) => `"${n}"`).join(', ')}; configured: ${instances.map((i) => i.name).join(', ') || '(none)'}.`);
    }
    return instances.filter((instance) => names.includes(instance.name));
  }

  // The provider reference of records that never reach the instance (unparseable input).
  const refs = new Map(
    options.providers.map((loaded) => {
      const { manifest } = loaded;
      const ref: ResultRecord['provider'] = { name: loaded.name, plugin: manifest.id, version: manifest.version, ...(manifest.lifecycle.status !== 'active' ? { lifecycle: manifest.lifecycle } : {}) };
      return [loaded.name, ref] as const;
    }),
  );

  // Repeated inputs are common (the same IP in every log line); parsing one costs more than a cache hit.
  // Objects are memoized by type, then value: no `type + value` string to build and hash per input.
  const parsedStrings = new Map<string, ParsedInput>();
  const parsedObjects = new Map<string, Map<string, ParsedInput>>();
  let memoSize = 0;
  function parse(raw: EnricherInput): ParsedInput {
    if (memoSize >= 4_096) {
      parsedStrings.clear();
      parsedObjects.clear();
      memoSize = 0;
    }
    let memo: Map<string, ParsedInput>;
    let key: string;
    if (typeof raw === 'string') {
      memo = parsedStrings;
      key = raw;
    } else if (typeof raw?.type === 'string' && typeof raw.value === 'string') {
      let byValue = parsedObjects.get(raw.type);
      if (!byValue) parsedObjects.set(raw.type, (byValue = new Map()));
      memo = byValue;
      key = raw.value;
    } else {
      return toParsedInput(raw);
    }
    let parsed = memo.get(key);
    if (!parsed) {
      parsed = toParsedInput(raw);
      memo.set(key, parsed);
      memoSize++;
    }
    return parsed;
  }

  /**
   * The options of one call's lookups: `fast` for `lookupFast` (which only reads whether the call
   * was aborted), `slow()` for `lookup`, whose signal is made on first use (lookupOptionsOf).
   */
  interface CallLookupOptions {
    fast: LookupOptions;
    slow(): LookupOptions;
  }

  /**
   * Looks one input up and writes its records straight into the result: `records[base + j]` for
   * the j-th selected instance, its summary at `summaries[index]`. Returns undefined when done
   * synchronously (cache hits in memory), else a promise that resolves once everything is written.
   * No item object and no array per input: on a cache hit those were a visible share of the cost.
   */
  function lookupInto(parsed: ParsedInput, selected: readonly ProviderInstance[], call: CallLookupOptions, records: ResultRecord[], base: number, summaries: ObservableSummary[], index: number): Promise<void> | undefined {
    const count = selected.length;
    if (!parsed.ok) {
      for (let j = 0; j < count; j++) {
        const instance = selected[j] as ProviderInstance;
        instance.countError(parsed.error.code);
        records[base + j] = emptyRecord(null, parsed.input, refs.get(instance.name) as ResultRecord['provider'], 'error', parsed.error);
      }
      summaries[index] = summarize(null, parsed.input, records, base, count);
      return undefined;
    }
    const { observable, input } = parsed;
    // Checked once per (memoized) input, not once per lookup.
    let special: SpecialAddress | null | undefined = null;
    if (!options.lookupPrivateAddresses) {
      special = parsed.special;
      if (special === undefined) special = parsed.special = specialAddress(observable) ?? null;
    }
    if (special) {
      const reasons = [{ rule: `special_address:${special.range}`, message: `${observable.value} is ${special.description}: not sent upstream (lookupPrivateAddresses: true sends it)`, values: { range: special.range } }];
      for (let j = 0; j < count; j++) {
        const instance = selected[j] as ProviderInstance;
        records[base + j] = { ...emptyRecord(observable, input, refs.get(instance.name) as ResultRecord['provider'], 'skipped', null), reasons };
      }
      summaries[index] = summarize(observable, input, records, base, count);
      return undefined;
    }
    // The cache key per instance, built once per input (a string built and hashed anew per lookup otherwise).
    const keys = (parsed.keys ??= new Array<string | undefined>(instances.length));
    let pending: Array<Promise<ResultRecord>> | Promise<ResultRecord> | undefined;
    let waiting = 0;
    // A loop, not forEach: no closure per input on the path of a cache hit.
    for (let j = 0; j < count; j++) {
      const instance = selected[j] as ProviderInstance;
      const slot = instance.slot;
      const key = keys[slot] ?? (keys[slot] = instance.keyFor(observable));
      const fast = instance.lookupFast(observable, input, key, call.fast);
      if (fast) {
        records[base + j] = fast;
        continue;
      }
      // The lookup writes its record into `records` itself.
      const one = instance.lookup(observable, input, key, call.slow(), true, records, base + j);
      if (waiting++ === 0) pending = one;
      else if (waiting === 2) pending = [pending as Promise<ResultRecord>, one];
      else (pending as Array<Promise<ResultRecord>>).push(one);
    }
    if (waiting === 0) {
      summaries[index] = summarize(observable, input, records, base, count);
      return undefined;
    }
    const done = (): void => void (summaries[index] = summarize(observable, input, records, base, count));
    // One provider waiting (the common miss): no Promise.all.
    return waiting === 1 ? (pending as Promise<ResultRecord>).then(done) : Promise.all(pending as Array<Promise<ResultRecord>>).then(done);
  }

  /** The item for one input (`stream`); synchronous when every record is (cache hits in memory). */
  function lookupOne(parsed: ParsedInput, selected: readonly ProviderInstance[], call: CallLookupOptions): StreamItem | Promise<StreamItem> {
    const records = new Array<ResultRecord>(selected.length);
    const summaries = new Array<ObservableSummary>(1);
    const pending = lookupInto(parsed, selected, call, records, 0, summaries, 0);
    if (!pending) return { records, summary: summaries[0] as ObservableSummary };
    return pending.then(() => ({ records, summary: summaries[0] as ObservableSummary }));
  }

  /**
   * The lookups of one call listen on a signal of the call's own, linked to the caller's with one
   * listener: each concurrent lookup listens on it, and a caller's signal with a listener per
   * lookup would warn of a leak (Node's limit is 10) and hold every lookup of a long stream.
   * That signal is made on the first lookup that has to wait: a cache hit answered synchronously
   * only reads whether the caller aborted (the same answer, since the own signal follows the
   * caller's), and making an AbortSignal costs about as much CPU as a whole cached lookup.
   */
  const lookupOptionsOf = (opts: EnrichOptions): CallLookupOptions & { release(): void } => {
    const refresh = opts.refresh ?? false;
    const includeRaw = opts.includeRaw ?? false;
    const cacheOnly = opts.cacheOnly ?? false;
    const trace = opts.trace;
    // Literals rather than spreads of a shared base: one call's options are made per request.
    const withSignal = (signal: AbortSignal | undefined): LookupOptions =>
      trace ? { refresh, includeRaw, cacheOnly, trace, signal } : { refresh, includeRaw, cacheOnly, signal };
    const caller = opts.signal;
    if (!caller) {
      const lookupOptions = withSignal(undefined);
      return { fast: lookupOptions, slow: () => lookupOptions, release: noRelease };
    }
    let linked: LookupOptions | undefined;
    let abort: (() => void) | undefined;
    return {
      fast: withSignal(caller),
      slow: () => {
        if (linked) return linked;
        const own = new AbortController();
        setMaxListeners(0, own.signal);
        abort = () => own.abort(caller.reason);
        if (caller.aborted) abort();
        else caller.addEventListener('abort', abort, { once: true });
        return (linked = withSignal(own.signal));
      },
      release: () => {
        if (abort) caller.removeEventListener('abort', abort);
      },
    };
  };

  function enrichNow(inputs: Iterable<EnricherInput>, opts: EnrichOptions = {}): EnrichResult | Promise<EnrichResult> {
    const selected = select(opts.providers);
    const list = Array.isArray(inputs) ? (inputs as EnricherInput[]) : [...inputs];
    const perInput = selected.length;
    // Input-major, written in place by each lookup (lookupInto).
    const records = new Array<ResultRecord>(list.length * perInput);
    const summaries = new Array<ObservableSummary>(list.length);
    const lookupOptions = lookupOptionsOf(opts);
    const lookupAt = (index: number): Promise<void> | undefined => lookupInto(parse(list[index] as EnricherInput), selected, lookupOptions, records, index * perInput, summaries, index);
    // The first worker answers the inputs it can synchronously (cache hits in memory) before
    // any other starts. For a small call (a service request) that run is done here, without a
    // worker, its promise and Promise.all; the first input that has to wait hands over to the
    // workers, the first of which starts with it, so lookups start in the same order as before.
    // A large call goes to the workers at once: with this loop in front of them, a call of
    // 50,000 hits measured fewer hits per CPU-second (docs/performance.md, serve third pass).
    let next = 0;
    let first: Promise<void> | undefined;
    if (opts.includeRaw) rawCalls++;
    if (list.length <= DIRECT_MAX) {
      while (next < list.length) {
        const index = next++;
        let pending: Promise<void> | undefined;
        try {
          pending = lookupAt(index);
        } catch (error) {
          // As in a worker: the call fails with it once the lookups already started have settled.
          pending = Promise.reject(error);
        }
        // (At most DIRECT_MAX hits here: far from the 1024 in a row after which a worker yields.)
        if (pending) {
          first = pending;
          break;
        }
      }
      if (!first) {
        // Every input answered: the result itself.
        if (opts.includeRaw) rawCalls--;
        lookupOptions.release();
        return { records, summaries };
      }
    }
    return workers(list, next, first, lookupAt, lookupOptions, opts).then(() => ({ records, summaries }));
  }

  /** The rest of an `enrichNow` call: from `next` on, with the input that stopped its synchronous run (`first`) handed to the first worker. */
  async function workers(list: readonly EnricherInput[], from: number, first: Promise<void> | undefined, lookupAt: (index: number) => Promise<void> | undefined, lookupOptions: { release(): void }, opts: EnrichOptions): Promise<void> {
    let next = from;
    let syncRun = 0;
    try {
      const worker = async (): Promise<void> => {
        while (next < list.length) {
          const pending = lookupAt(next++);
          if (pending) {
            await pending;
          } else if (++syncRun % 1024 === 0) {
            // A long run of in-memory hits must not starve the event loop (I/O, timers, servers).
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      };
      // The first worker goes on from the input that stopped the synchronous run.
      const firstWorker = first
        ? async (): Promise<void> => {
            await first;
            await worker();
          }
        : worker;
      const count = Math.min(list.length, Math.max(1, opts.concurrency ?? defaultConcurrency));
      await Promise.all(Array.from({ length: count }, (_, i) => (i === 0 ? firstWorker() : worker())));
    } finally {
      if (opts.includeRaw) rawCalls--;
      lookupOptions.release();
    }
  }

  return {
    async enrich(inputs, opts = {}) {
      return enrichNow(inputs, opts);
    },

    enrichNow,

    async *stream(inputs, opts = {}) {
      const selected = select(opts.providers);
      const concurrency = Math.max(1, opts.concurrency ?? defaultConcurrency);
      const lookupOptions = lookupOptionsOf(opts);
      if (opts.includeRaw) rawCalls++;
      try {
        // No head-of-line blocking: a slow lookup (a timeout, a quota wait) holds its place in
        // the output, not the lookups behind it (see orderedPool).
        yield* orderedPool(inputs, (input) => lookupOne(parse(input), selected, lookupOptions), { concurrency, window: opts.window ?? defaultWindow(concurrency) });
      } finally {
        if (opts.includeRaw) rawCalls--;
        lookupOptions.release();
      }
    },

    async providers() {
      return Promise.all(instances.map((instance) => instance.info()));
    },

    stats() {
      return Object.fromEntries(instances.map((instance) => [instance.name, instance.snapshot()]));
    },

    async expectLookups(lookups, opts = {}) {
      await Promise.all(select(opts.providers).map((instance) => instance.expectLookups(lookups)));
    },

    async close() {
      if (closed) return;
      closed = true;
      const results = await Promise.allSettled([
        ...instances.map((instance) => instance.close()),
        ...ownStores.map(async (store) => store.close?.()),
      ]);
      for (const result of results) {
        if (result.status === 'rejected') logger.warn({ err: String((result.reason as Error)?.message ?? result.reason) }, 'closing failed');
      }
    },
  };
}
