import { createEnricher, createMemoryCacheStore, isXEnrichError, loadProviders, parseConfig, prepareProvider, type Enricher, type Logger, type Observable, type ProviderWarning, type ResultRecord } from '@x/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { observableFor, startSimulator, type Simulator } from '@x/virustotal-simulator';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../src/index.js';
import { mapV2Report } from '../src/mapping.js';
import { captureLogger } from '@x/core/testing';

/**
 * End to end: the plugin loaded by core's loader, run by core's engine (batching, retry, rate
 * limits, cache), against the VirusTotal simulator's v2 API on an ephemeral loopback port.
 */

const API_KEY = 'e2e-v2-key-7f3a9c1d5b';
const WRONG_KEY = 'e2e-wrong-key-0c4e2a';

let sim: Simulator;
const logger = captureLogger();
const enrichers: Enricher[] = [];
const everything: unknown[] = [];

function enricherWith(options: { apiKey?: string; instance?: Record<string, unknown>; cache?: boolean; onWarning?: (warning: ProviderWarning) => void; logger?: Logger } = {}) {
  const loaded = prepareProvider(
    'vt2',
    plugin,
    { options: { apiKey: options.apiKey ?? API_KEY, apiUrl: sim.v2Url }, ...options.instance },
    { logger: options.logger ?? logger, onWarning: options.onWarning },
  );
  const enricher = createEnricher({ providers: [loaded], cacheStore: options.cache ? createMemoryCacheStore({ maxEntries: 100 }) : false, logger });
  enrichers.push(enricher);
  return enricher;
}

async function lookup(enricher: Enricher, inputs: string[]): Promise<ResultRecord[]> {
  const { records } = await enricher.enrich(inputs);
  everything.push(...records);
  return records;
}

const fileRequests = () => sim.stats().byEndpoint['v2 file/report'] ?? 0;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKeys: [API_KEY] });
});
afterEach(async () => {
  await Promise.all(enrichers.splice(0).map((enricher) => enricher.close()));
  sim.reset();
  sim.setFaults({});
});
afterAll(async () => {
  // The key must never reach a log line, a record or an error message, whatever happened above.
  const dump = logger.text() + JSON.stringify(everything);
  expect(dump).not.toContain(API_KEY);
  expect(dump).not.toContain(WRONG_KEY);
  await sim.close();
});
describe('lifecycle through core', () => {
  it('warns once with X_WARN_PROVIDER_END_OF_LIFE when loaded, naming the replacement', () => {
    const warnings: ProviderWarning[] = [];
    const warnLog = captureLogger();
    enricherWith({ onWarning: (warning) => warnings.push(warning), logger: warnLog });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'X_WARN_PROVIDER_END_OF_LIFE', plugin: '@x/provider-virustotal-v2', lifecycle: { status: 'end-of-life', replacedBy: '@x/provider-virustotal-v3' } });
    expect(warnings[0]!.message).toMatch(/virustotal-v3/);
    expect(warnLog.lines.filter((line) => line.obj.code === 'X_WARN_PROVIDER_END_OF_LIFE')).toHaveLength(1);
  });

  it('loaded from a config by core\'s loader: two instances, one warning; refused when the config says allowEndOfLife: false', async () => {
    const packageDir = fileURLToPath(new URL('..', import.meta.url));
    const instance = { use: '.', options: { apiKey: API_KEY, apiUrl: sim.v2Url } };
    const load = (allowEndOfLife: boolean, onWarning?: (warning: ProviderWarning) => void) =>
      loadProviders(parseConfig({ providers: { vt2a: instance, vt2b: instance }, allowEndOfLife }), { importFrom: packageDir, conditions: ['@x/source', 'import'], onWarning });

    const warnings: ProviderWarning[] = [];
    const loaded = await load(true, (warning) => warnings.push(warning));
    expect(loaded.map((provider) => provider.name)).toEqual(['vt2a', 'vt2b']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'X_WARN_PROVIDER_END_OF_LIFE', instances: ['vt2a', 'vt2b'] });

    const refused = await load(false).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isXEnrichError(refused) && refused.code).toBe('X_PROVIDER_END_OF_LIFE_REFUSED');
    expect((refused as Error).message).toMatch(/@x\/provider-virustotal-v3/);
  });

  it('is refused with a clear error when the host does not allow end-of-life providers', () => {
    let error: unknown;
    try {
      prepareProvider('vt2', plugin, { options: { apiKey: API_KEY, apiUrl: sim.v2Url } }, { allowEndOfLife: false });
    } catch (caught) {
      error = caught;
    }
    expect(isXEnrichError(error) && error.code).toBe('X_PROVIDER_END_OF_LIFE_REFUSED');
    expect((error as Error).message).toMatch(/@x\/provider-virustotal-v3/);
  });

  it('stamps the lifecycle on every record', async () => {
    const records = await lookup(enricherWith(), [observableFor({ type: 'domain' }), observableFor({ type: 'md5', status: 'not_found' })]);
    for (const record of records) expect(record.provider.lifecycle).toMatchObject({ status: 'end-of-life', endOfLife: '2021-08-11', endOfSupport: '2022-02-11' });
  });

  it('rejects low >= high at load time, naming both values', () => {
    expect(() => prepareProvider('vt2', plugin, { options: { apiKey: API_KEY, lowConfidenceInfectionRateMax: 66, highConfidenceInfectionRateMin: 66 } })).toThrow(
      /lowConfidenceInfectionRateMax \(66\) must be lower than highConfidenceInfectionRateMin \(66\)/,
    );
  });
});

describe('each observable type', () => {
  const cases = [
    { type: 'domain', request: { malicious: 65, total: 71 }, confidence: 'high', entity: (value: string) => `Indicator of domain: ${value}` },
    { type: 'ipv4', request: { malicious: 5, total: 70 }, confidence: 'low', entity: (value: string) => `Indicator of ipv4: ${value}` },
    { type: 'url', request: { malicious: 33, total: 100 }, confidence: 'medium', entity: (value: string) => `Indicator of uri: ${value}` },
    { type: 'md5', request: { malicious: 66, total: 100 }, confidence: 'medium', entity: null },
    { type: 'sha1', request: { malicious: 67, total: 100 }, confidence: 'high', entity: null },
    { type: 'sha256', request: { malicious: 32, total: 100 }, confidence: 'low', entity: null },
  ] as const;

  it.each(cases)('looks up a $type and rates it $confidence from positives/total', async ({ type, request, confidence, entity }) => {
    const value = observableFor({ type, ...request });
    const [record] = await lookup(enricherWith(), [value]);
    const rate = (request.malicious * 100) / request.total;
    expect(record).toMatchObject({ status: 'ok', verdict: 'malicious', confidence, observable: { type } });
    expect(record!.extracted.infectionRate).toBeCloseTo(rate, 10);
    expect(record!.reasons[0]!.message).toContain(`${request.malicious}/${request.total}`);
    if (entity) {
      expect(record!.entities).toEqual([expect.objectContaining({ type: 'indicator', name: entity(record!.observable!.value), confidence })]);
    } else {
      expect(record!.entities.length).toBeGreaterThan(0);
      expect(record!.entities.every((e) => e.type === 'ttp')).toBe(true);
      const engines = record!.entities.flatMap((e) => e.engines as string[]);
      expect(engines).toHaveLength(request.malicious);
    }
  });

  it('is benign with no confidence and no TTPs for a clean file, and benign for a clean domain', async () => {
    const [file, domain] = await lookup(enricherWith(), [observableFor({ type: 'sha256' }), observableFor({ type: 'domain' })]);
    expect(file).toMatchObject({ status: 'ok', verdict: 'benign', confidence: null, entities: [] });
    expect(domain).toMatchObject({ status: 'ok', verdict: 'benign', confidence: null });
  });
});

describe('statuses', () => {
  it('maps not found for every type', async () => {
    const inputs = (['domain', 'ipv4', 'url', 'md5'] as const).map((type) => observableFor({ type, status: 'not_found' }));
    const records = await lookup(enricherWith(), inputs);
    expect(records.map((record) => [record.status, record.verdict])).toEqual(inputs.map(() => ['not_found', 'unknown']));
  });

  it('maps a queued file to pending and never caches it', async () => {
    const queued = observableFor({ type: 'sha256', status: 'queued' });
    const enricher = enricherWith({ cache: true });
    expect((await lookup(enricher, [queued]))[0]).toMatchObject({ status: 'pending', verdict: 'unknown' });
    expect((await lookup(enricher, [queued]))[0]).toMatchObject({ status: 'pending', cache: { hit: false } });
    expect(fileRequests()).toBe(2);
    // A found report is cached: the second lookup costs nothing.
    const found = observableFor({ type: 'sha256', malicious: 3 });
    await lookup(enricher, [found]);
    expect((await lookup(enricher, [found]))[0]!.cache.hit).toBe(true);
    expect(fileRequests()).toBe(3);
  });

  it('reports a bad key (403) as an auth error without retrying', async () => {
    const [record] = await lookup(enricherWith({ apiKey: WRONG_KEY }), [observableFor({ type: 'md5', malicious: 1 })]);
    expect(record).toMatchObject({ status: 'error', verdict: 'unknown', error: { code: 'X_UPSTREAM_AUTH', retryable: false } });
    expect(sim.stats().byStatus['403']).toBe(1);
  });

  it('retries HTTP 204 (over quota) through core and reports a quota error when retries run out', async () => {
    const limited = await startSimulator({ port: 0, apiKeys: [API_KEY], quotas: [{ requests: 1, perMs: 60_000 }] });
    try {
      // No local limit, so the upstream's 204 is what stops us; short retry delays keep the test fast.
      const loaded = prepareProvider('vt2', plugin, {
        options: { apiKey: API_KEY, apiUrl: limited.v2Url },
        rateLimit: false,
        resilience: { retry: { maxAttempts: 2, initialDelay: '5ms', maxDelay: '20ms' } },
      });
      const enricher = createEnricher({ providers: [loaded], cacheStore: false, logger });
      enrichers.push(enricher);
      const [first] = await lookup(enricher, [observableFor({ type: 'md5', malicious: 2 })]);
      expect(first).toMatchObject({ status: 'ok' });
      const [second] = await lookup(enricher, [observableFor({ type: 'md5', malicious: 3 })]);
      expect(second).toMatchObject({ status: 'error', error: { code: 'X_UPSTREAM_QUOTA', retryable: true } });
      expect(limited.stats().byStatus).toEqual({ '200': 1, '204': 3 }); // the first attempt and 2 retries
    } finally {
      await limited.close();
    }
  });
});

describe('batching', () => {
  it('costs ceil(N/4) file/report requests for N hashes on a public key', async () => {
    const hashes = Array.from({ length: 10 }, (_, variant) => observableFor({ type: 'md5', malicious: variant * 7, total: 70, variant: variant + 1 }));
    const records = await lookup(enricherWith(), hashes);
    expect(fileRequests()).toBe(Math.ceil(hashes.length / 4));
    expect(sim.stats().v2Resources).toBe(hashes.length);
    records.forEach((record, variant) => {
      expect(record.observable?.value).toBe(hashes[variant]);
      expect(record.extracted).toMatchObject({ positives: variant * 7, total: 70 });
    });
  });

  it('batches up to the instance batchSize through the engine (a private key: 25 hashes a request)', async () => {
    const hashes = Array.from({ length: 30 }, (_, variant) => observableFor({ type: 'sha256', malicious: variant % 9, total: 70, variant: variant + 100 }));
    const records = await lookup(enricherWith({ instance: { options: { apiKey: API_KEY, apiUrl: sim.v2Url, batchSize: 25 } } }), hashes);
    expect(fileRequests()).toBe(2); // 25 + 5, not ceil(30/4) = 8
    expect(records.map((record) => record.status)).toEqual(hashes.map(() => 'ok'));
  });

  it('sends concurrent URL lookups newline-separated in one url/report request', async () => {
    const urls = [1, 2, 3].map((variant) => observableFor({ type: 'url', malicious: variant, variant }));
    const records = await lookup(enricherWith(), urls);
    expect(sim.stats().byEndpoint['v2 url/report']).toBe(1);
    expect(records.map((record) => record.extracted.positives)).toEqual([1, 2, 3]);
  });
});

describe('host verdict options through the simulator', () => {
  it('hostMinUrlInfectionRate: a domain whose worst URL is 5/94 is benign, one at 60/94 stays malicious; one request each', async () => {
    const low = observableFor({ type: 'domain', malicious: 5, total: 94 });
    const high = observableFor({ type: 'domain', malicious: 60, total: 94 });
    const lowIp = observableFor({ type: 'ipv4', malicious: 9, total: 60 });
    const enricher = enricherWith({ instance: { options: { apiKey: API_KEY, apiUrl: sim.v2Url, hostMinUrlInfectionRate: 20 } } });
    const records = await lookup(enricher, [low, high, lowIp]);
    expect(records.map((record) => [record.verdict, record.confidence])).toEqual([
      ['benign', null],
      ['malicious', 'medium'],
      ['benign', null],
    ]);
    expect(records[0]!.reasons.map((reason) => reason.rule)).toContain('host_urls_below_minimum');
    expect(sim.stats().byEndpoint).toEqual({ 'v2 domain/report': 2, 'v2 ip-address/report': 1 });
    // The default (no option) is the EclecticIQ rule: the same low-rate domain is malicious, low.
    const [byDefault] = await lookup(enricherWith(), [low]);
    expect(byDefault).toMatchObject({ verdict: 'malicious', confidence: 'low' });
  });

  it('hostVerdict unrated: domains and IPs are found without a verdict; files are still judged', async () => {
    const enricher = enricherWith({ instance: { options: { apiKey: API_KEY, apiUrl: sim.v2Url, hostVerdict: 'unrated' } } });
    const records = await lookup(enricher, [observableFor({ type: 'domain', malicious: 60, total: 94 }), observableFor({ type: 'md5', malicious: 60, total: 94 })]);
    expect(records[0]).toMatchObject({ status: 'ok', verdict: 'unknown' });
    expect(records[0]!.reasons[0]!.rule).toBe('host_not_rated');
    expect(records[1]).toMatchObject({ status: 'ok', verdict: 'malicious' });
    expect(sim.stats().total).toBe(2);
  });
});

describe('the real captures served by the simulator', () => {
  // Every capture in test/fixtures that names its observable, looked up through the simulator,
  // core's engine and this provider, must give what mapping the capture directly gives. Before
  // the simulator echoed `resource` and stopped serving scan submissions as reports, several of
  // them came back as errors (a batch answer whose resource was not the one asked for) or pending.
  const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));
  const options = { lowConfidenceInfectionRateMax: 33, highConfidenceInfectionRateMin: 66 };
  const cases: Array<[string, string, Observable]> = [
    ['domain_report_benign_python.org.json', 'python.org', { type: 'domain', value: 'python.org' }],
    ['domain_report_github.com_2019.json', 'github.com', { type: 'domain', value: 'github.com' }],
    ['domain_report_virustotal.com_2014.json', 'virustotal.com', { type: 'domain', value: 'virustotal.com' }],
    ['ip_address_report_1.1.1.1_2019.json', '1.1.1.1', { type: 'ipv4', value: '1.1.1.1' }],
    ['ip_address_report_8.8.8.8_2014.json', '8.8.8.8', { type: 'ipv4', value: '8.8.8.8' }],
    ['file_report_clean_2014.json', '68b329da9893e34099c7d8ad5cb9c940', { type: 'md5', value: '68b329da9893e34099c7d8ad5cb9c940' }],
    ['file_report_clean_2014.json', '01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b', { type: 'sha256', value: '01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b' }],
    ['file_report_detected_65of71.json', '7657fcb7d772448a6d8504e4b20168b8', { type: 'md5', value: '7657fcb7d772448a6d8504e4b20168b8' }],
    ['url_report_clean_microsoft.json', 'http://www.microsoft.com', { type: 'url', value: 'http://www.microsoft.com/' }],
    ['url_report_google.com_clean.json', 'http://www.google.com', { type: 'url', value: 'http://www.google.com/' }],
    ['url_report_not_found_rc0.json', 'http://www.unscanned.com', { type: 'url', value: 'http://www.unscanned.com/' }],
  ];

  it('maps every one of them as the capture itself maps', async () => {
    const batch = JSON.parse(readFileSync(join(FIXTURES, 'file_report_batch_3_resources.json'), 'utf8')) as Array<{ md5: string }>;
    for (const report of batch) cases.push(['file_report_batch_3_resources.json', report.md5, { type: 'md5', value: report.md5 }]);
    const served = await startSimulator({ port: 0, apiKeys: [API_KEY], fixturesDir: FIXTURES });
    try {
      const loaded = prepareProvider('vt2', plugin, { options: { apiKey: API_KEY, apiUrl: served.v2Url }, rateLimit: false }, { logger });
      const enricher = createEnricher({ providers: [loaded], cacheStore: false, logger });
      enrichers.push(enricher);
      const { records } = await enricher.enrich(cases.map(([, input]) => input));
      everything.push(...records);
      cases.forEach(([file, input, observable], i) => {
        const body = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as unknown;
        const capture = Array.isArray(body) ? body.find((report: { md5: string }) => report.md5 === input) : body;
        const direct = mapV2Report(observable, capture, options);
        const record = records[i]!;
        expect([input, record.status], file).toEqual([input, direct.kind === 'found' ? 'ok' : direct.kind]);
        if (direct.kind === 'found') expect([input, record.verdict, record.confidence, record.extracted]).toEqual([input, direct.verdict, direct.confidence, direct.extracted]);
      });
      expect(served.fixtureDuplicates()).toEqual([]);
    } finally {
      await served.close();
    }
  });
});
