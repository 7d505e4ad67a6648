import { describe, expect, it } from 'vitest';
import type { EnricherEvent, EnricherStats, ProviderInfo } from '@x/core';
import { promtoolAvailable, promtoolCheckMetrics } from '../../test/helpers/promtool.js';
import { createServiceMetrics } from './metrics.js';
import type { SharedStoreStats } from '../stores.js';

const hasPromtool = promtoolAvailable();

describe.skipIf(!hasPromtool)('the exposition passes `promtool check metrics`', () => {
  it('with every metric populated: each engine event, providers, shared stores, HTTP requests', async () => {
    const providers = [{ name: 'vt3', circuitState: 'half-open', rateLimit: [{ requests: 4, perMs: 60_000, remaining: 3 }] }] as unknown as ProviderInfo[];
    const shared: SharedStoreStats[] = [{ store: 'redis redis://***@cache:6379 x-enrich:', stats: { status: 'degraded', outages: 1, fallbackOperations: 2, refusedOperations: 0 } }];
    const metrics = createServiceMetrics(async () => providers, () => shared);
    const events: EnricherEvent[] = [
      { type: 'lookup', instance: 'vt3', observableType: 'domain', status: 'ok', cacheHit: false, durationMs: 12 },
      { type: 'lookup', instance: 'vt3', observableType: 'url', status: 'error', cacheHit: true, durationMs: 1, errorCode: 'X_UPSTREAM_HTTP' },
      { type: 'upstream', instance: 'vt3', durationMs: 10, ok: true, batchSize: 1, httpStatus: 200 },
      { type: 'upstream', instance: 'vt3', durationMs: 10, ok: false, batchSize: 1, errorCode: 'X_UPSTREAM_QUOTA', httpStatus: 429 },
      { type: 'http', instance: 'vt3', method: 'GET', status: 200, durationMs: 9 },
      { type: 'http', instance: 'vt3', method: 'GET', status: undefined, durationMs: 9, errorCode: 'X_UPSTREAM_NETWORK' },
      { type: 'retry', instance: 'vt3', attempt: 1, delayMs: 100 },
      { type: 'circuit', instance: 'vt3', state: 'open' },
      { type: 'timeout', instance: 'vt3' },
      { type: 'bulkhead_rejected', instance: 'vt3' },
      { type: 'rate_limit_wait', instance: 'vt3', waitedMs: 1500 },
    ];
    for (const event of events) metrics.onEvent(event);
    metrics.observeRequest('/v1/enrich', 'POST', 200, 0.02);
    const text = await metrics.registry.metrics();
    const { code, output } = await promtoolCheckMetrics(text);
    expect(output).toBe('');
    expect(code).toBe(0);
    // A successful call has no `code` label; a failed one names its error.
    expect(text).toContain('x_enrich_upstream_calls_total{instance="vt3",outcome="ok"} 1');
    expect(text).toContain('x_enrich_upstream_calls_total{instance="vt3",outcome="error",code="X_UPSTREAM_QUOTA"} 1');
    expect(text).not.toMatch(/="",?/);
    // The per-type gauges whose sums the dropped `*_total` gauges were remain.
    expect(text).toMatch(/^# TYPE x_enrich_process_nodejs_active_handles gauge$/m);
    expect(text).not.toMatch(/^# TYPE \S+_total gauge$/m);
  });
});

describe('shared store metrics', () => {
  it('exports whether each Redis connection serves, and its outage, fallback and refusal counts', async () => {
    let shared: SharedStoreStats[] = [{ store: 'redis redis://***@cache:6379 x-enrich:', stats: { status: 'ready', outages: 0, fallbackOperations: 0, refusedOperations: 0 } }];
    const metrics = createServiceMetrics(async () => [], () => shared);
    const label = '{store="redis redis://***@cache:6379 x-enrich:"}';
    expect(await metrics.registry.metrics()).toContain(`x_enrich_shared_store_up${label} 1`);

    shared = [{ store: shared[0]!.store, stats: { status: 'degraded', outages: 1, fallbackOperations: 42, refusedOperations: 0 } }];
    const text = await metrics.registry.metrics();
    expect(text).toContain(`x_enrich_shared_store_up${label} 0`);
    expect(text).toContain(`x_enrich_shared_store_outages${label} 1`);
    expect(text).toContain(`x_enrich_shared_store_fallback_operations${label} 42`);
  });

  it('exports nothing for stores when no Redis is configured', async () => {
    const text = await createServiceMetrics(async () => []).registry.metrics();
    expect(text).not.toMatch(/x_enrich_shared_store_up\{/);
  });
});

describe('request and lookup counters', () => {
  it('count every event once, across scrapes, by label set', async () => {
    const metrics = createServiceMetrics(async () => []);
    const hit = { type: 'lookup', instance: 'vt3', observableType: 'ipv4', status: 'ok', cacheHit: true, durationMs: 0.01 } as const;
    for (let i = 0; i < 3; i += 1) metrics.onEvent(hit);
    metrics.onEvent({ ...hit, instance: 'vt2', cacheHit: false });
    metrics.observeRequest('/v1/enrich', 'POST', 200, 0.001);
    let text = await metrics.registry.metrics();
    expect(text).toContain('x_enrich_lookups_total{instance="vt3",type="ipv4",status="ok",cache="hit"} 3');
    expect(text).toContain('x_enrich_lookups_total{instance="vt2",type="ipv4",status="ok",cache="miss"} 1');
    expect(text).toContain('x_enrich_cache_hits_total{instance="vt3"} 3');
    expect(text).not.toContain('x_enrich_cache_hits_total{instance="vt2"}');
    expect(text).toContain('x_enrich_http_server_requests_total{route="/v1/enrich",method="POST",status="200"} 1');
    // A second scrape adds only what happened since the first.
    metrics.onEvent(hit);
    metrics.observeRequest('/v1/enrich', 'POST', 503, 0.001);
    text = await metrics.registry.metrics();
    expect(text).toContain('x_enrich_lookups_total{instance="vt3",type="ipv4",status="ok",cache="hit"} 4');
    expect(text).toContain('x_enrich_lookups_total{instance="vt2",type="ipv4",status="ok",cache="miss"} 1');
    expect(text).toContain('x_enrich_http_server_requests_total{route="/v1/enrich",method="POST",status="200"} 1');
    expect(text).toContain('x_enrich_http_server_requests_total{route="/v1/enrich",method="POST",status="503"} 1');
  });
});

describe('request metrics kept for the last route, method and status', () => {
  it('count each request under its own labels whatever came before, and keep counting after a reset', async () => {
    const metrics = createServiceMetrics(async () => []);
    const requests: Array<[string, string, number]> = [
      ['/v1/enrich', 'POST', 200], ['/v1/enrich', 'POST', 200], ['/v1/enrich', 'POST', 503], ['/v1/enrich', 'POST', 200],
      ['/v1/enrich', 'GET', 200], ['/healthz', 'POST', 200], ['/healthz', 'GET', 200], ['/v1/enrich', 'POST', 200],
    ];
    for (const [route, method, status] of requests) metrics.observeRequest(route, method, status, 0.002);
    let text = await metrics.registry.metrics();
    expect(text).toContain('x_enrich_http_server_requests_total{route="/v1/enrich",method="POST",status="200"} 4');
    expect(text).toContain('x_enrich_http_server_requests_total{route="/v1/enrich",method="POST",status="503"} 1');
    expect(text).toContain('x_enrich_http_server_requests_total{route="/v1/enrich",method="GET",status="200"} 1');
    expect(text).toContain('x_enrich_http_server_requests_total{route="/healthz",method="POST",status="200"} 1');
    expect(text).toContain('x_enrich_http_server_requests_total{route="/healthz",method="GET",status="200"} 1');
    expect(text).toContain('x_enrich_http_server_request_duration_seconds_count{route="/v1/enrich",method="POST"} 5');
    expect(text).toContain('x_enrich_http_server_request_duration_seconds_count{route="/healthz",method="GET"} 1');
    // A reset between two requests of the same labels: the second is counted in the new series.
    metrics.registry.resetMetrics();
    metrics.observeRequest('/v1/enrich', 'POST', 200, 0.002);
    metrics.observeRequest('/v1/enrich', 'POST', 200, 0.002);
    text = await metrics.registry.metrics();
    expect(text).toContain('x_enrich_http_server_request_duration_seconds_count{route="/v1/enrich",method="POST"} 2');
    expect(text).toContain('x_enrich_http_server_requests_total{route="/v1/enrich",method="POST",status="200"} 2');
  });
});

describe('request and lookup histograms', () => {
  it("export the very lines prom-client's Histogram does for the same observations", async () => {
    const { Histogram, Registry } = await import('prom-client');
    const metrics = createServiceMetrics(async () => []);
    const reference = new Registry();
    const buckets = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
    const lookups = new Histogram({ name: 'x_enrich_lookup_duration_seconds', help: 'Time to produce one record (cache hits included).', labelNames: ['instance', 'cache'], buckets, registers: [reference] });
    const requests = new Histogram({ name: 'x_enrich_http_server_request_duration_seconds', help: 'Latency of requests to this service.', labelNames: ['route', 'method'], buckets, registers: [reference] });
    const durations = [0.0001, 0.0005, 0.003, 0.2, 7, 400];
    for (const [i, seconds] of durations.entries()) {
      const instance = i % 2 ? 'vt2' : 'vt3';
      metrics.onEvent({ type: 'lookup', instance, observableType: 'ipv4', status: 'ok', cacheHit: i < 3, durationMs: seconds * 1000 });
      lookups.observe({ instance, cache: i < 3 ? 'hit' : 'miss' }, seconds);
      metrics.observeRequest('/v1/enrich', 'POST', 200, seconds);
      requests.observe({ route: '/v1/enrich', method: 'POST' }, seconds);
    }
    const lines = (text: string, name: string) => text.split('\n').filter((line) => line.includes(name));
    const ours = await metrics.registry.metrics();
    const theirs = await reference.metrics();
    for (const name of ['x_enrich_lookup_duration_seconds', 'x_enrich_http_server_request_duration_seconds']) {
      // Same values up to float summation order.
      const round = (line: string) => line.replace(/ ([\d.e+-]+)$/, (_, value: string) => ` ${Number(Number(value).toPrecision(12))}`);
      expect(lines(ours, name).map(round)).toEqual(lines(theirs, name).map(round));
      expect(lines(ours, name).length).toBeGreaterThan(10);
    }
    // The JSON form too, with each series' labels beside `le`.
    const json = (await metrics.registry.getMetricsAsJSON()).find((metric) => metric.name === 'x_enrich_lookup_duration_seconds');
    expect(json?.values).toContainEqual(expect.objectContaining({ metricName: 'x_enrich_lookup_duration_seconds_count', value: 2, labels: { instance: 'vt3', cache: 'hit' } }));
  });
});

describe('instance gauges from the engine\'s synchronous stats', () => {
  it('exports the circuit state and the quota as last known, without asking the store', async () => {
    const stats = {
      vt3: { circuitState: 'open', quota: { windows: [{ requests: 4, perMs: 60_000, remaining: 1, freesInMs: 20_000 }], at: 0, demand: 0, othersDemand: [], inFlight: 0 } },
      local: { circuitState: 'closed' },
    } as unknown as EnricherStats;
    const engine: { current?: EnricherStats } = {};
    const metrics = createServiceMetrics(() => engine.current);
    // Before the engine exists: no instance gauges, no error.
    expect(await metrics.registry.metrics()).not.toMatch(/x_enrich_rate_limit_remaining\{/);
    engine.current = stats;
    const text = await metrics.registry.metrics();
    expect(text).toContain('x_enrich_rate_limit_remaining{instance="vt3",window="4/60000ms"} 1');
    expect(text).toContain('x_enrich_circuit_state{instance="vt3",state="open"} 1');
    expect(text).toContain('x_enrich_circuit_state{instance="local",state="closed"} 1');
    expect(text).not.toMatch(/x_enrich_rate_limit_remaining\{instance="local"/);
  });
});

describe('lookup metrics kept per kind of lookup event', () => {
  it("export what prom-client's own Counter and Histogram do, across alternating labels, scrapes and resets", async () => {
    const { Counter, Histogram, Registry } = await import('prom-client');
    const metrics = createServiceMetrics(async () => []);
    const reference = new Registry();
    const buckets = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
    const lookups = new Counter({ name: 'x_enrich_lookups_total', help: 'Result records produced, by instance, observable type, status and cache hit.', labelNames: ['instance', 'type', 'status', 'cache'], registers: [reference] });
    const hits = new Counter({ name: 'x_enrich_cache_hits_total', help: 'Lookups answered from the cache.', labelNames: ['instance'], registers: [reference] });
    const durations = new Histogram({ name: 'x_enrich_lookup_duration_seconds', help: 'Time to produce one record (cache hits included).', labelNames: ['instance', 'cache'], buckets, registers: [reference] });
    const feed = (count: number, seed: number) => {
      for (let i = 0; i < count; i += 1) {
        const n = i * 7 + seed;
        // Strings made anew (not the same objects), so equal labels are found by value too.
        const instance = ['vt3', 'vt2', 'http'][n % 3] as string;
        const observableType = `${['ipv4', 'domain'][(n >> 1) % 2]}`;
        const status = ['ok', 'ok', 'not_found', 'error'][(n >> 2) % 4] as string;
        const cacheHit = n % 5 !== 0;
        const durationMs = (n % 11) * 0.37;
        metrics.onEvent({ type: 'lookup', instance, observableType, status, cacheHit, durationMs } as EnricherEvent);
        lookups.inc({ instance, type: observableType, status, cache: cacheHit ? 'hit' : 'miss' });
        if (cacheHit) hits.inc({ instance });
        durations.observe({ instance, cache: cacheHit ? 'hit' : 'miss' }, durationMs / 1000);
      }
    };
    const names = ['x_enrich_lookups_total', 'x_enrich_cache_hits_total', 'x_enrich_lookup_duration_seconds'];
    const round = (line: string) => line.replace(/ ([\d.e+-]+)$/, (_, value: string) => ` ${Number(Number(value).toPrecision(12))}`);
    const lines = (text: string) => text.split('\n').filter((line) => names.some((name) => line.startsWith(name))).map(round).sort();
    const compare = async () => {
      const ours = lines(await metrics.registry.metrics());
      expect(ours).toEqual(lines(await reference.metrics()));
      return ours;
    };
    feed(40, 0);
    expect((await compare()).length).toBeGreaterThan(20);
    feed(25, 3);
    await compare();
    // A reset between two events of the same kind: the second is counted in the new series.
    metrics.registry.resetMetrics();
    reference.resetMetrics();
    feed(1, 1);
    feed(1, 1);
    await compare();
    feed(60, 2);
    await compare();
  });

  it('counts every kind of lookup when more kinds are seen than it keeps', async () => {
    const metrics = createServiceMetrics(async () => []);
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 50; i += 1) metrics.onEvent({ type: 'lookup', instance: `p${i}`, observableType: 'ipv4', status: 'ok', cacheHit: true, durationMs: 0.01 });
    }
    const text = await metrics.registry.metrics();
    for (let i = 0; i < 50; i += 1) {
      expect(text).toContain(`x_enrich_lookups_total{instance="p${i}",type="ipv4",status="ok",cache="hit"} 2`);
      expect(text).toContain(`x_enrich_cache_hits_total{instance="p${i}"} 2`);
      expect(text).toContain(`x_enrich_lookup_duration_seconds_count{instance="p${i}",cache="hit"} 2`);
    }
  });
});
