import { createEnricher, zProviderInstanceConfig, zProviderManifest, type Enricher, type LoadedProvider, type Observable, type ResultRecord } from '@x/core';
import { createFakeClock } from '@x/core/testing';
import { observableFor, startSimulator, urlSha256, type Simulator } from '@x/virustotal-simulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { zVirusTotalV3Options } from '../src/options.js';
import plugin from '../src/plugin.js';

// Every option of issue 18 end to end through the simulator, with the quota each one costs read
// from the simulator's own counters (requests as they arrived, by endpoint).

const API_KEY = 'sim-v3-depth-key-0123456789';
const FAST = { cache: false, rateLimit: false, resilience: { timeout: '5s', retry: { maxAttempts: 1 }, circuitBreaker: false } };
// The simulator's analyses fall in 2025; the clock stands in mid-2026, so every one is older than 30 days.
const clock = createFakeClock(Date.UTC(2026, 5, 1));

const MALICIOUS_FILE = observableFor({ type: 'sha256', malicious: 40, total: 70 });
const CLEAN_FILE = observableFor({ type: 'sha256', malicious: 0, total: 70 });
const GTI_BENIGN_FILE = observableFor({ type: 'sha256', malicious: 30, total: 70, variant: 3 });
const SANDBOX_FILE = observableFor({ type: 'sha256', malicious: 0, total: 70, variant: 4 });
const YARA_FILE = observableFor({ type: 'sha256', malicious: 20, total: 70, variant: 5 });
const NO_YARA_FILE = observableFor({ type: 'sha256', malicious: 20, total: 70, variant: 6 });

let sim: Simulator;
let enricher: Enricher | undefined;

function loaded(options: Record<string, unknown>): LoadedProvider {
  const manifest = zProviderManifest.parse(plugin.manifest);
  const raw = { apiKey: API_KEY, baseUrl: sim.v3Url, ...options };
  return { name: 'vt3', plugin, manifest, options: zVirusTotalV3Options.parse(raw), config: zProviderInstanceConfig.parse({ use: manifest.packageName, ...FAST, options: raw }) };
}

async function run(inputs: Observable[], options: Record<string, unknown> = {}): Promise<ResultRecord[]> {
  enricher = createEnricher({ providers: [loaded(options)], cacheStore: false, concurrency: 1, clock });
  return (await enricher.enrich(inputs)).records;
}

const file = (value: string): Observable => ({ type: 'sha256', value });

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    apiKeys: [API_KEY],
    seed: 'vt3-depth',
    gti: true,
    now: () => clock.now(),
    depth: [
      { value: GTI_BENIGN_FILE, gti: { verdict: 'VERDICT_BENIGN', threatScore: 0, severity: 'SEVERITY_NONE' } },
      { value: SANDBOX_FILE, gti: null, sandboxes: { Zenbox: 'malicious' }, ids: { high: 2 } },
      { value: YARA_FILE, yara: 3 },
      { value: NO_YARA_FILE, yara: 0 },
    ],
  });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());
afterEach(async () => {
  await enricher?.close();
  enricher = undefined;
});

describe('relationships with the object (no extra quota)', () => {
  it('one request per observable, related entities named by relationship', async () => {
    const records = await run([file(MALICIOUS_FILE), { type: 'domain', value: 'malicious.example' }], { relationships: ['contacted_domains', 'resolutions'] });
    expect(sim.stats().total).toBe(2);
    expect(sim.stats().byEndpoint).toEqual({ 'v3 files': 1, 'v3 domains': 1 });
    const [fileRecord, domainRecord] = records;
    const fileRefs = (fileRecord!.extracted.relationships as Record<string, unknown[]>).contacted_domains!;
    expect(Object.keys(fileRecord!.extracted.relationships as object)).toEqual(['contacted_domains']);
    expect(fileRefs.length).toBeGreaterThan(0);
    const related = fileRecord!.entities.filter((entity) => entity.type === 'related');
    expect(related).toHaveLength(fileRefs.length);
    expect(related[0]).toMatchObject({ relationship: 'contacted_domains', objectType: 'domain', observable: { type: 'domain' }, from: { type: 'sha256', value: MALICIOUS_FILE } });
    // A resolution names the other end: the IP the domain resolved to.
    const resolution = domainRecord!.entities.find((entity) => entity.type === 'related');
    expect(resolution).toMatchObject({ relationship: 'resolutions', objectType: 'resolution', observable: { type: 'ipv4' } });
  });
});

describe('related objects in full (one more request each)', () => {
  it('costs one request per relationship that applies, and gives each object\'s detections', async () => {
    const records = await run([file(MALICIOUS_FILE), { type: 'domain', value: 'clean.example' }], { relatedObjects: [{ name: 'contacted_ips', limit: 5 }] });
    // The file: its object and one page of contacted_ips; the domain has no contacted_ips: one request.
    expect(sim.stats().byEndpoint).toEqual({ 'v3 files': 1, 'v3 files contacted_ips': 1, 'v3 domains': 1 });
    expect(sim.stats().total).toBe(3);
    const refs = (records[0]!.extracted.relationships as Record<string, Array<{ malicious_count: unknown; observable: unknown }>>).contacted_ips!;
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.length).toBeLessThanOrEqual(5);
    for (const ref of refs) {
      expect(ref.observable).toMatchObject({ type: 'ipv4' });
      expect(typeof ref.malicious_count === 'number' || ref.malicious_count === null).toBe(true);
    }
    expect(records[1]!.extracted).not.toHaveProperty('relationships');
  });
});

describe('YARA rule text (one more request per ruleset)', () => {
  it('fetches up to yaraRulesets rulesets, each once, and counts one request each', async () => {
    const [record] = await run([file(YARA_FILE)], { extract: ['crowdsourced'], yaraRulesets: 2 });
    expect(sim.stats().byEndpoint).toEqual({ 'v3 files': 1, 'v3 yara_rulesets': 2 });
    const yara = (record!.extracted.crowdsourced as { yara: { count: number; rules: Array<{ ruleset_id: string; ruleset_name: string }>; rulesets: Record<string, { name: string; text: string }> } }).yara;
    expect(yara.count).toBe(3);
    const fetched = Object.keys(yara.rulesets);
    expect(fetched).toEqual([...new Set(yara.rules.map((rule) => rule.ruleset_id))].slice(0, 2));
    for (const id of fetched) {
      const rule = yara.rules.find((r) => r.ruleset_id === id)!;
      expect(yara.rulesets[id]!.name).toBe(rule.ruleset_name);
      expect(yara.rulesets[id]!.text).toMatch(new RegExp(`^rule ${rule.ruleset_name}\\n\\{`));
    }
  });

  it('costs nothing extra when the option is 0 (the default) or the file matched no rule', async () => {
    const [plain] = await run([file(YARA_FILE)], { extract: ['crowdsourced'] });
    expect(sim.stats().byEndpoint).toEqual({ 'v3 files': 1 });
    expect((plain!.extracted.crowdsourced as { yara: Record<string, unknown> }).yara).not.toHaveProperty('rulesets');
    await enricher?.close();
    sim.reset();
    const [none] = await run([file(NO_YARA_FILE)], { extract: ['crowdsourced'], yaraRulesets: 5 });
    expect(sim.stats().byEndpoint).toEqual({ 'v3 files': 1 });
    expect((none!.extracted.crowdsourced as { yara: unknown }).yara).toBeNull();
  });
});

describe('extract groups and rules on the new fields', () => {
  it('gti-preferred takes GTI\'s verdict over 30 engines; extract adds the groups; still one request', async () => {
    const records = await run([file(GTI_BENIGN_FILE)], { maliceRules: 'gti-preferred', extract: ['gti', 'crowdsourced', 'sandboxes', 'hashes', 'file_type'] });
    expect(sim.stats().total).toBe(1);
    const record = records[0]!;
    expect(record).toMatchObject({ status: 'ok', verdict: 'benign', confidence: 'high', reasons: [{ rule: 'gti_benign' }, { rule: 'clean_note', values: { flagged: 30 } }] });
    expect(record.extracted.gti).toEqual({ verdict: 'VERDICT_BENIGN', threat_score: 0, severity: 'SEVERITY_NONE', description: expect.any(String) });
    expect(record.extracted.malicious_count).toBe(30);
    expect(record.extracted.fuzzy_hashes).toMatchObject({ ssdeep: expect.any(String), tlsh: expect.stringMatching(/^T1/) });
    expect(record.extracted.file_type).toMatchObject({ type_tags: expect.any(Array), magika: expect.any(String) });
  });

  it('without GTI, a malicious sandbox verdict or a high IDS alert makes a file no engine flags suspicious', async () => {
    const [record] = await run([file(SANDBOX_FILE)], { maliceRules: 'gti-preferred', extract: ['sandboxes', 'crowdsourced'] });
    expect(record).toMatchObject({ verdict: 'suspicious', reasons: [{ rule: 'sandbox_or_ids', values: { sandbox_malicious_count: 1, ids_high_count: 2 } }] });
    expect(record!.extracted.sandbox_verdicts).toEqual([{ sandbox: 'Zenbox', category: 'malicious', confidence: expect.any(Number), classification: ['MALWARE'], malware_names: expect.any(Array) }]);
    // The seed's defaults stay the default: the same file is benign, with the engines' note.
    const [plain] = await run([file(SANDBOX_FILE)]);
    expect(plain).toMatchObject({ verdict: 'benign', reasons: [{ rule: 'no_detections' }, { rule: 'clean_note', values: { engines_found_nothing: expect.any(Number) } }] });
    expect(plain!.extracted).not.toHaveProperty('sandbox_verdicts');
  });
});

describe('stale analyses', () => {
  it('maxAnalysisAge alone adds a stale_analysis reason and spends nothing more', async () => {
    const [record] = await run([file(MALICIOUS_FILE)], { maxAnalysisAge: '30d' });
    expect(record!.verdict).toBe('malicious');
    expect(record!.reasons.at(-1)).toMatchObject({ rule: 'stale_analysis', values: { max_age_days: 30 } });
    expect(sim.stats().total).toBe(1);
    const [fresh] = await run([file(MALICIOUS_FILE)], { maxAnalysisAge: '1000d' });
    expect(fresh!.reasons.map((reason) => reason.rule)).not.toContain('stale_analysis');
  });

  it('reanalyseStale: a stale file is reanalysed (one POST), pending with the analysis id; the next lookup reads the fresh analysis', async () => {
    const options = { maxAnalysisAge: '30d', reanalyseStale: true };
    const [first] = await run([file(CLEAN_FILE)], options);
    expect(first).toMatchObject({ status: 'pending', verdict: 'unknown', reasons: [{ rule: 'stale_analysis' }, { rule: 'reanalysis_requested' }] });
    const analysisId = first!.reasons[1]!.values!.analysis_id as string;
    expect(Buffer.from(analysisId, 'base64').toString()).toMatch(new RegExp(`^[0-9a-f]{32}:${clock.now() / 1000}$`));
    expect(sim.stats().byEndpoint).toEqual({ 'v3 files': 1, 'v3 files analyse': 1 });
    const [second] = await run([file(CLEAN_FILE)], options);
    expect(second).toMatchObject({ status: 'ok', verdict: 'benign' });
    expect(second!.extracted.last_analysis_date).toBe(new Date(clock.now()).toISOString());
    expect(second!.reasons.map((reason) => reason.rule)).toEqual(['no_detections', 'clean_note']);
    // Quota: three requests in all, the POST only when the report was stale.
    expect(sim.stats().byEndpoint).toEqual({ 'v3 files': 2, 'v3 files analyse': 1 });
  });

  it('reanalyseStale: a URL is submitted again with POST /urls; domains are only marked stale', async () => {
    const url = 'http://m-6-of-90.example/stale';
    const [record] = await run([{ type: 'url', value: url }], { maxAnalysisAge: '30d', reanalyseStale: true });
    expect(record!.status).toBe('pending');
    expect(record!.reasons[1]!.values!.analysis_id).toBe(`u-${urlSha256(url)}-${clock.now() / 1000}`);
    expect(sim.stats().byEndpoint).toEqual({ 'v3 urls': 1, 'v3 urls POST': 1 });
    sim.reset();
    const [domain] = await run([{ type: 'domain', value: 'm-6-of-90.example' }], { maxAnalysisAge: '30d', reanalyseStale: true });
    expect(domain).toMatchObject({ status: 'ok', verdict: 'malicious' });
    expect(domain!.reasons.at(-1)!.rule).toBe('stale_analysis');
    expect(sim.stats().total).toBe(1);
  });
});
