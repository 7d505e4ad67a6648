import { createEnricher, createMemoryCacheStore, zProviderInstanceConfig, zProviderManifest, type CacheStore, type Enricher, type LoadedProvider, type Observable, type ResultRecord } from '@x/core';
import { keyFingerprint, outcomeObservables, startSimulator, type SimObservableType, type Simulator } from '@x/virustotal-simulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import plugin from '../src/plugin.js';
import { zVirusTotalV3Options } from '../src/options.js';
import { captureLogger } from '@x/core/testing';

const API_KEY = 'sim-v3-key-0123456789abcdef';

/** Instance config for the tests: no caching, no waiting, fast retries, no breaker unless asked. */
const FAST = {
  cache: false,
  rateLimit: false,
  resilience: { timeout: '2s', retry: { maxAttempts: 2, initialDelay: '10ms', maxDelay: '20ms' }, circuitBreaker: false },
};

let sim: Simulator;
let enricher: Enricher | undefined;
let logger: ReturnType<typeof captureLogger>;

/** A LoadedProvider built the way the loader builds one: manifest, options and instance config validated. */
function loaded(options: Record<string, unknown> = {}, config: Record<string, unknown> = FAST): LoadedProvider {
  const manifest = zProviderManifest.parse(plugin.manifest);
  const raw = { apiKey: API_KEY, baseUrl: sim.v3Url, ...options };
  return { name: 'vt3', plugin, manifest, options: zVirusTotalV3Options.parse(raw), config: zProviderInstanceConfig.parse({ use: manifest.packageName, ...config, options: raw }) };
}

async function run(inputs: Array<string | Observable>, provider: LoadedProvider = loaded(), cacheStore: CacheStore | false = false): Promise<ResultRecord[]> {
  enricher = createEnricher({ providers: [provider], cacheStore, logger, concurrency: 1 });
  const { records } = await enricher.enrich(inputs);
  return records;
}

/** Everything the run exposed: records (with raw) and log lines. Must never hold a key. */
const exposed = (records: ResultRecord[]) => JSON.stringify(records) + logger.text();

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKeys: [API_KEY], seed: 'vt3-e2e' });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  sim.setFaults({});
  logger = captureLogger();
});
afterEach(async () => {
  await enricher?.close();
  enricher = undefined;
});

const TYPES: SimObservableType[] = ['ipv4', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256'];

describe('each observable type against the simulator', () => {
  it.each(TYPES)('%s: verdicts follow the default rules and not-found is not_found', async (type) => {
    const outcomes = outcomeObservables(type);
    const expected = [
      [outcomes.clean, 'ok', 'benign'],
      [outcomes.malicious1, 'ok', 'suspicious'],
      [outcomes.malicious4, 'ok', 'suspicious'],
      [outcomes.suspicious3, 'ok', 'suspicious'],
      [outcomes.malicious5, 'ok', 'malicious'],
      [outcomes.heavy, 'ok', 'malicious'],
      [outcomes.notFound, 'not_found', 'unknown'],
    ] as const;
    const records = await run(expected.map(([value]) => ({ type, value: value! })));
    // (The engine normalizes values, e.g. IPv6 `…::0` -> `…::`, so compare status and verdict in input order.)
    expect(records.map((record) => [record.status, record.verdict])).toEqual(expected.map(([, status, verdict]) => [status, verdict]));
    const heavy = records[5]!;
    expect(heavy.extracted).toMatchObject({ malicious_count: 65, total_engines: 71 });
    expect(heavy.entities[0]).toMatchObject({ type: 'indicator', name: `Indicator of ${type}: ${heavy.observable!.value}` });
    expect(heavy.reasons[0]!.rule).toBe('malicious_count>=5');
    expect(sim.stats().byKey).toEqual({ [keyFingerprint(API_KEY)]: expected.length });
    expect(exposed(records)).not.toContain(API_KEY);
  });
});

describe('queued objects', () => {
  it.each(['sha256', 'url'] as const)('a queued %s (all-zero stats) is pending, not benign, and is asked again next time', async (type) => {
    const queued = outcomeObservables(type).queued!;
    const provider = loaded({}, { ...FAST, cache: {} });
    const cache = createMemoryCacheStore({ maxEntries: 100 });
    const first = await run([{ type, value: queued }], provider, cache);
    expect(first[0]).toMatchObject({ status: 'pending', verdict: 'unknown', reasons: [{ rule: 'no_engine_results' }] });
    const requestsAfterFirst = sim.stats().total;
    await run([{ type, value: queued }], provider, cache);
    expect(sim.stats().total).toBe(requestsAfterFirst + 1);
    // ...whereas a found object is served from the same cache the second time.
    const clean = outcomeObservables(type).clean!;
    await run([{ type, value: clean }], provider, cache);
    await run([{ type, value: clean }], provider, cache);
    expect(sim.stats().total).toBe(requestsAfterFirst + 2);
  });
});

describe('failures', () => {
  it('a wrong key ends in one non-retried auth error that never shows the key', async () => {
    const wrongKey = 'wrong-key-that-must-not-leak-42';
    const records = await run([{ type: 'domain', value: 'example.org' }], loaded({ apiKey: wrongKey }));
    expect(records[0]).toMatchObject({ status: 'error', verdict: 'unknown', error: { code: 'X_UPSTREAM_AUTH', retryable: false } });
    expect(sim.stats().total).toBe(1);
    expect(exposed(records)).not.toContain(wrongKey);
  });

  it('no request is sent beyond the local limiter budget', async () => {
    const outcomes = outcomeObservables('domain');
    const inputs = [outcomes.clean, outcomes.malicious1, outcomes.malicious5].map((value) => ({ type: 'domain' as const, value: value! }));
    const records = await run(inputs, loaded({}, { ...FAST, rateLimit: [{ requests: 2, per: '1m' }], maxRateLimitWait: '50ms' }));
    expect(records.map((record) => record.status)).toEqual(['ok', 'ok', 'error']);
    expect(records[2]!.error!.code).toBe('X_RATE_LIMIT_EXHAUSTED');
    expect(sim.stats().total).toBe(2);
    expect(sim.stats().byStatus['429']).toBeUndefined();
  });

  it('a 429 QuotaExceededError is retried, then reported as a quota error', async () => {
    await sim.close();
    sim = await startSimulator({ port: 0, apiKeys: [API_KEY], seed: 'vt3-e2e', quotas: [{ requests: 1, perMs: 60_000 }] });
    try {
      const outcomes = outcomeObservables('domain');
      const records = await run([outcomes.clean, outcomes.malicious1].map((value) => ({ type: 'domain' as const, value: value! })));
      expect(records[0]!.status).toBe('ok');
      expect(records[1]).toMatchObject({ status: 'error', error: { code: 'X_UPSTREAM_QUOTA', retryable: true } });
      // The first attempt and the two retries all reached the simulator and were refused.
      expect(sim.stats().byStatus['429']).toBe(3);
    } finally {
      await sim.close();
      sim = await startSimulator({ port: 0, apiKeys: [API_KEY], seed: 'vt3-e2e' });
    }
  });

  it.each([
    ['5xx', { errorRate: 1 }, 'X_UPSTREAM_HTTP'],
    ['connection reset', { resetRate: 1 }, 'X_UPSTREAM_NETWORK'],
  ])('%s is retried and reported when every attempt fails', async (_what, faults, code) => {
    sim.setFaults(faults);
    const records = await run([{ type: 'domain', value: 'example.org' }]);
    expect(records[0]).toMatchObject({ status: 'error', error: { code, retryable: true } });
    expect(sim.stats().total).toBe(3);
  });

  it.each([
    ['5xx', { errorRate: 0.5 }, 'error'],
    ['connection reset', { resetRate: 0.5 }, 'reset'],
  ])('intermittent %s is retried until the lookups succeed', async (_what, faults, faultKind) => {
    sim.setFaults(faults);
    const inputs = Object.values(outcomeObservables('sha256', 7)).map((value) => ({ type: 'sha256' as const, value }));
    const provider = loaded({}, { ...FAST, resilience: { ...FAST.resilience, retry: { maxAttempts: 8, initialDelay: '5ms', maxDelay: '10ms' } } });
    const records = await run(inputs, provider);
    // Every lookup ends with the simulator's real answer (the queued hash is `pending`), none in error.
    expect(records.every((record) => ['ok', 'not_found', 'pending'].includes(record.status))).toBe(true);
    const stats = sim.stats();
    expect(stats.faults[faultKind]).toBeGreaterThan(0);
    expect(stats.total).toBe(inputs.length + stats.faults[faultKind]!);
  });

  it('the circuit opens after consecutive failures and then fails fast without requests', async () => {
    sim.setFaults({ errorRate: 1 });
    const inputs = [1, 2, 3, 4, 5].map((n) => ({ type: 'domain' as const, value: `host${n}.example` }));
    const provider = loaded({}, { ...FAST, resilience: { timeout: '2s', retry: false, circuitBreaker: { consecutiveFailures: 3, halfOpenAfter: '1m' } } });
    const records = await run(inputs, provider);
    expect(records.map((record) => record.error?.code)).toEqual(['X_UPSTREAM_HTTP', 'X_UPSTREAM_HTTP', 'X_UPSTREAM_HTTP', 'X_CIRCUIT_OPEN', 'X_CIRCUIT_OPEN']);
    expect(sim.stats().total).toBe(3);
  });

  it('a malformed body is a bad_response error, not a crash', async () => {
    sim.setFaults({ malformedRate: 1 });
    const records = await run([{ type: 'domain', value: 'example.org' }]);
    expect(records[0]).toMatchObject({ status: 'error', error: { code: 'X_UPSTREAM_BAD_RESPONSE' } });
  });
});
