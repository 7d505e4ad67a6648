import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EnricherEvent, EnricherStats, ProviderInfo } from '@x/core';
import type { SharedStoreStats } from '../stores.js';

const CIRCUIT_STATES = ['closed', 'open', 'half-open', 'isolated', 'disabled'] as const;
const DEFAULT_METRICS_PREFIX = 'x_enrich_process_';
const TOTAL_NAMED_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
// Lookups span cache hits (microseconds) to quota waits (minutes).
const LOOKUP_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The entry of a label set, found through one Map per label rather than by a key joined from the
 * values: joining makes a new string to hash on every call, and these run several times per
 * request; the label values themselves are strings seen before, whose hashes V8 keeps.
 */
function labelSets<T>(make: (values: readonly string[]) => T): { find(values: readonly string[]): T; entries(): T[]; clear(): void; version(): number } {
  let root = new Map<string, unknown>();
  const all: T[] = [];
  // Counts clears: an entry kept outside (observeRequest's) is one of these only while it is unchanged.
  let clears = 0;
  return {
    version: () => clears,
    find(values) {
      let node = root;
      const last = values.length - 1;
      for (let i = 0; i < last; i++) {
        let next = node.get(values[i] as string) as Map<string, unknown> | undefined;
        if (next === undefined) {
          next = new Map();
          node.set(values[i] as string, next);
        }
        node = next;
      }
      let entry = node.get(values[last] as string) as T | undefined;
      if (entry === undefined) {
        entry = make(values);
        node.set(values[last] as string, entry);
        all.push(entry);
      }
      return entry;
    },
    entries: () => all,
    clear() {
      root = new Map();
      all.length = 0;
      clears += 1;
    },
  };
}

/**
 * A counter whose increments are summed per label set (`labelSets`) and handed to
 * prom-client when it is read (a scrape): prom-client checks and hashes the labels of every
 * `inc`, about a microsecond, and these count every request and every lookup. Values are given in
 * `labelNames` order; an empty value leaves its label out (`code` of a successful call).
 */
interface BatchedCounter {
  (...values: string[]): void;
  /** The pending count of one label set, to add to directly (it lives as long as the counter). */
  series(values: readonly string[]): { count: number };
}

function batchedCounter(registry: Registry, name: string, help: string, labelNames: readonly string[]): BatchedCounter {
  const pending = labelSets((values) => ({ labels: Object.fromEntries(labelNames.flatMap((label, i) => (values[i] ? [[label, values[i]]] : []))) as Record<string, string>, count: 0 }));
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const entry of pending.entries()) {
        if (entry.count === 0) continue;
        this.inc(entry.labels, entry.count);
        entry.count = 0;
      }
    },
  });
  const count = (...values: string[]) => {
    pending.find(values).count += 1;
  };
  return Object.assign(count, { series: (values: readonly string[]) => pending.find(values) });
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

interface BatchedHistogram {
  (seconds: number, ...values: string[]): void;
  /** One label set's series, to observe into with `observeInto` while `version()` is unchanged (a reset makes new ones). */
  series(values: readonly string[]): HistogramSeries;
  observeInto(series: HistogramSeries, seconds: number): void;
  version(): number;
}

/**
 * A histogram summed per label set in plain numbers, as `batchedCounter` does for counters, for
 * the ones observed on every request and every lookup: prom-client's Histogram checks and hashes
 * the labels of every `observe` and has no way to take a batch of observations, so this is a
 * metric object of its own, registered with `registerMetric`, exporting the same series
 * (`_bucket` per bound and `+Inf`, `_sum`, `_count`) as prom-client's Histogram would.
 */
function batchedHistogram(registry: Registry, name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): BatchedHistogram {
  const series = labelSets((labelValues) => ({
    labels: Object.fromEntries(labelNames.map((label, i) => [label, labelValues[i] ?? ''])) as Record<string, string>,
    counts: buckets.map(() => 0),
    sum: 0,
    count: 0,
  }));
  const values = () => {
    const out: Array<{ value: number; labels: Record<string, string | number>; sharedLabels: Record<string, string>; metricName: string }> = [];
    for (const { labels, counts, sum, count } of series.entries()) {
      let cumulative = 0;
      buckets.forEach((bound, i) => {
        cumulative += counts[i] ?? 0;
        out.push({ value: cumulative, labels: { le: bound }, sharedLabels: labels, metricName: `${name}_bucket` });
      });
      out.push({ value: count, labels: { le: '+Inf' }, sharedLabels: labels, metricName: `${name}_bucket` });
      out.push({ value: sum, labels: {}, sharedLabels: labels, metricName: `${name}_sum` });
      out.push({ value: count, labels: {}, sharedLabels: labels, metricName: `${name}_count` });
    }
    return out;
  };
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    labelNames,
    getForPromString: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: values() }),
    // The JSON form (getMetricsAsJSON) has the series' labels beside `le`, as prom-client's own.
    get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: values().map(({ sharedLabels, labels, ...value }) => ({ ...value, labels: { ...labels, ...sharedLabels } })) }),
    reset: () => series.clear(),
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  const observeInto = (entry: HistogramSeries, seconds: number) => {
    // A loop rather than findIndex: no closure per observation (several per request).
    let i = 0;
    while (i < buckets.length && !(seconds <= (buckets[i] as number))) i++;
    if (i < buckets.length) entry.counts[i] = (entry.counts[i] ?? 0) + 1;
    entry.sum += seconds;
    entry.count += 1;
  };
  const observe = (seconds: number, ...labelValues: string[]) => observeInto(series.find(labelValues), seconds);
  return Object.assign(observe, { series: (values: readonly string[]) => series.find(values), observeInto, version: () => series.version() });
}

/** The counter and histogram series one kind of lookup event adds to (`onEvent`). */
interface LookupSeries {
  instance: string;
  observableType: string;
  status: string;
  cacheHit: boolean;
  counted: { count: number };
  /** x_enrich_cache_hits_total's series of the instance, for a hit. */
  hits: { count: number } | undefined;
  timed: HistogramSeries;
}

// A service sees a few instances x a few observable types x a few statuses.
const MAX_LOOKUP_SERIES_KEPT = 32;

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Feed core's `onEvent` here. */
  onEvent(event: EnricherEvent): void;
  /** One finished HTTP request to this service. */
  observeRequest(route: string, method: string, statusCode: number, seconds: number): void;
}

/**
 * Where the circuit and rate-limit gauges read the instances at scrape time: the engine's
 * synchronous `stats()` (the quota as last known from the store's answers, no store call per
 * scrape; undefined before the engine exists), or an async `providers()` (asks the store).
 */
export type InstanceSource = () => EnricherStats | undefined | Promise<readonly ProviderInfo[]>;

/** Each instance's circuit state and rate-limit windows with what is left in each, from either source. */
async function readInstances(source: InstanceSource): Promise<Array<{ name: string; circuitState: string; windows: ReadonlyArray<{ requests: number; perMs: number; remaining: number }> }>> {
  const read = await source();
  if (!read) return [];
  if (Array.isArray(read)) return (read as readonly ProviderInfo[]).map((info) => ({ name: info.name, circuitState: info.circuitState, windows: info.rateLimit }));
  return Object.entries(read as EnricherStats).map(([name, stats]) => ({ name, circuitState: stats.circuitState, windows: stats.quota?.windows ?? [] }));
}

/**
 * Prometheus metrics from core's engine events (lookups, cache hits, upstream calls by status,
 * retries, circuit state, quota waits, latency histograms), plus each instance's circuit state
 * and remaining rate-limit budget read at scrape time (see `InstanceSource`), plus the
 * process's default metrics.
 */
export function createServiceMetrics(instances: InstanceSource, sharedStores: () => readonly SharedStoreStats[] = () => []): ServiceMetrics {
  const registry = new Registry();
  // Shared (Redis) stores: whether they serve, and how often a fallback or refusal happened, so
  // an operator can alert on a fleet that silently went back to per-process quotas.
  const storeGauge = (name: string, help: string, read: (stats: SharedStoreStats['stats']) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['store'],
      registers: [registry],
      collect() {
        for (const { store, stats } of sharedStores()) this.set({ store }, read(stats));
      },
    });
  storeGauge('x_enrich_shared_store_up', 'Whether the shared store serves operations (1) or not (0: falling back to memory, or refusing).', (stats) => (stats.status === 'ready' ? 1 : 0));
  storeGauge('x_enrich_shared_store_outages', 'Times the shared store became unreachable since start.', (stats) => stats.outages);
  storeGauge('x_enrich_shared_store_fallback_operations', 'Operations served by the in-memory fallback while the shared store was down.', (stats) => stats.fallbackOperations);
  storeGauge('x_enrich_shared_store_refused_operations', 'Operations refused because the shared store was down (onUnavailable: refuse).', (stats) => stats.refusedOperations);
  collectDefaultMetrics({ register: registry, prefix: DEFAULT_METRICS_PREFIX });
  // prom-client's defaults include three gauges named `*_total`, which Prometheus reserves for
  // counters (`promtool check metrics` refuses them). Each is the sum of its per-type sibling
  // (`nodejs_active_handles{type}`...), so they are dropped: `sum(..._active_handles)` gives it.
  for (const name of TOTAL_NAMED_GAUGES) registry.removeSingleMetric(`${DEFAULT_METRICS_PREFIX}${name}`);
  const countLookup = batchedCounter(registry, 'x_enrich_lookups_total', 'Result records produced, by instance, observable type, status and cache hit.', ['instance', 'type', 'status', 'cache']);
  const countCacheHit = batchedCounter(registry, 'x_enrich_cache_hits_total', 'Lookups answered from the cache.', ['instance']);
  const observeLookup = batchedHistogram(registry, 'x_enrich_lookup_duration_seconds', 'Time to produce one record (cache hits included).', ['instance', 'cache'], LOOKUP_BUCKETS);
  const upstreamCalls = new Counter({ name: 'x_enrich_upstream_calls_total', help: 'Calls into the provider (attempts; a batch counts once), by outcome and, for errors, error code.', labelNames: ['instance', 'outcome', 'code'], registers: [registry] });
  const upstreamSeconds = new Histogram({ name: 'x_enrich_upstream_duration_seconds', help: 'Duration of calls into the provider.', labelNames: ['instance'], buckets: LOOKUP_BUCKETS, registers: [registry] });
  const httpRequests = new Counter({ name: 'x_enrich_upstream_http_requests_total', help: 'HTTP requests sent upstream, by status (0: no response).', labelNames: ['instance', 'status'], registers: [registry] });
  const retries = new Counter({ name: 'x_enrich_retries_total', help: 'Retries of transient upstream failures.', labelNames: ['instance'], registers: [registry] });
  const timeouts = new Counter({ name: 'x_enrich_timeouts_total', help: 'Upstream attempts that timed out.', labelNames: ['instance'], registers: [registry] });
  const bulkhead = new Counter({ name: 'x_enrich_bulkhead_rejections_total', help: 'Calls refused because the concurrency limit and its queue were full.', labelNames: ['instance'], registers: [registry] });
  const quotaWaits = new Counter({ name: 'x_enrich_quota_waits_total', help: 'Requests that waited for rate-limit budget.', labelNames: ['instance'], registers: [registry] });
  const quotaWaitSeconds = new Counter({ name: 'x_enrich_quota_wait_seconds_total', help: 'Time spent waiting for rate-limit budget.', labelNames: ['instance'], registers: [registry] });
  const circuit = new Gauge({
    name: 'x_enrich_circuit_state',
    help: 'Circuit breaker state per instance: 1 for the current state.',
    labelNames: ['instance', 'state'],
    registers: [registry],
    async collect() {
      for (const info of await readInstances(instances)) for (const state of CIRCUIT_STATES) this.set({ instance: info.name, state }, info.circuitState === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'x_enrich_rate_limit_remaining',
    help: 'Requests left in each rate-limit window of an instance.',
    labelNames: ['instance', 'window'],
    registers: [registry],
    async collect() {
      for (const info of await readInstances(instances)) for (const window of info.windows) this.set({ instance: info.name, window: `${window.requests}/${window.perMs}ms` }, window.remaining);
    },
  });
  const countRequest = batchedCounter(registry, 'x_enrich_http_server_requests_total', 'Requests to this service.', ['route', 'method', 'status']);
  const observeRequestSeconds = batchedHistogram(registry, 'x_enrich_http_server_request_duration_seconds', 'Latency of requests to this service.', ['route', 'method'], LOOKUP_BUCKETS);
  // The counter and histogram series of the last (route, method, status): a service's requests
  // repeat them, and finding them by label is a Map per label and a status string per request.
  let lastRequest: { route: string; method: string; statusCode: number; version: number; counted: { count: number }; timed: HistogramSeries } | undefined;
  // The series of each (instance, observable type, status, hit) seen, as for the requests, but
  // several at once: a call's lookups alternate between instances (vt3, vt2, vt3, ...), so the
  // last one alone would always miss. Found by comparing the event's strings (the engine's own,
  // the same string objects every time) along a short list rather than a Map per label and an
  // array of label values per event; the list starts again after a reset of the histogram, and
  // when it is long (an unusual spread of types and statuses) it is cleared, not searched further.
  let lookupsSeen: LookupSeries[] = [];
  let lookupsVersion = observeLookup.version();
  const lookupSeries = (instance: string, observableType: string, status: string, cacheHit: boolean): LookupSeries => {
    if (lookupsVersion !== observeLookup.version()) {
      lookupsSeen = [];
      lookupsVersion = observeLookup.version();
    }
    for (let i = 0; i < lookupsSeen.length; i++) {
      const seen = lookupsSeen[i] as LookupSeries;
      if (seen.instance === instance && seen.observableType === observableType && seen.status === status && seen.cacheHit === cacheHit) return seen;
    }
    const cache = cacheHit ? 'hit' : 'miss';
    const series: LookupSeries = {
      instance,
      observableType,
      status,
      cacheHit,
      counted: countLookup.series([instance, observableType, status, cache]),
      hits: cacheHit ? countCacheHit.series([instance]) : undefined,
      timed: observeLookup.series([instance, cache]),
    };
    if (lookupsSeen.length >= MAX_LOOKUP_SERIES_KEPT) lookupsSeen = [];
    lookupsSeen.push(series);
    return series;
  };

  return {
    registry,
    onEvent(event) {
      switch (event.type) {
        case 'lookup': {
          const series = lookupSeries(event.instance, event.observableType, event.status, event.cacheHit);
          series.counted.count += 1;
          if (series.hits !== undefined) series.hits.count += 1;
          observeLookup.observeInto(series.timed, event.durationMs / 1000);
          break;
        }
        case 'upstream':
          // A successful call has no error code: no `code` label at all rather than `code=""`.
          upstreamCalls.inc(event.ok ? { instance: event.instance, outcome: 'ok' } : { instance: event.instance, outcome: 'error', code: event.errorCode ?? 'unknown' });
          upstreamSeconds.observe({ instance: event.instance }, event.durationMs / 1000);
          break;
        case 'http':
          httpRequests.inc({ instance: event.instance, status: String(event.status ?? 0) });
          break;
        case 'retry':
          retries.inc({ instance: event.instance });
          break;
        case 'timeout':
          timeouts.inc({ instance: event.instance });
          break;
        case 'bulkhead_rejected':
          bulkhead.inc({ instance: event.instance });
          break;
        case 'rate_limit_wait':
          quotaWaits.inc({ instance: event.instance });
          quotaWaitSeconds.inc({ instance: event.instance }, event.waitedMs / 1000);
          break;
        case 'circuit':
          // Read live at scrape time (collect); touching the gauge keeps the label set current.
          for (const state of CIRCUIT_STATES) circuit.set({ instance: event.instance, state }, event.state === state ? 1 : 0);
          break;
      }
    },
    observeRequest(route, method, statusCode, seconds) {
      let last = lastRequest;
      if (last === undefined || last.statusCode !== statusCode || last.route !== route || last.method !== method || last.version !== observeRequestSeconds.version()) {
        last = lastRequest = {
          route,
          method,
          statusCode,
          version: observeRequestSeconds.version(),
          counted: countRequest.series([route, method, String(statusCode)]),
          timed: observeRequestSeconds.series([route, method]),
        };
      }
      last.counted.count += 1;
      observeRequestSeconds.observeInto(last.timed, seconds);
    },
  };
}
