// (Node globals come from eslint.config.js.)
// `pnpm bench` for @x/provider-http: what a declarative lookup costs (templating, the request,
// JMESPath extraction, rules, entities) against a hand-written provider that does the same
// (one GET, the same fields, the same rules), both through the same engine, the same core
// upstream client and the same in-process loopback upstream, in one run. Misses only (no cache).
// Goal: declarative / hand-written at most 1.5.
import { createServer } from 'node:http';
import { createEnricher, definePlugin, inject, injectable, Tokens } from '@x/core';
import { loadTestProvider } from '@x/core/testing';
import plugin from '../dist/index.js';

const BODY = JSON.stringify({ data: { ipAddress: '', abuseConfidenceScore: 88, totalReports: 9, numDistinctUsers: 4, countryCode: 'NL', usageType: 'Data Center', isp: 'Example', domain: 'example.nl', isTor: false, isWhitelisted: false, lastReportedAt: '2026-11-30T22:01:13+00:00' } });
const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(BODY));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseUrl = `http://127.0.0.1:${server.address().port}/api/v2`;

/** What a person would write by hand for AbuseIPDB's check endpoint. */
class HandWritten {
  constructor(options, http) {
    this.api = http.upstream({ name: 'AbuseIPDB', baseUrl: options.baseUrl, auth: { header: 'Key', secret: options.apiKey } });
  }
  async enrich(observable, context) {
    const { body } = await this.api.get(['check'], context, { query: { ipAddress: observable.value, maxAgeInDays: '90' } });
    const d = body.data;
    const score = d.abuseConfidenceScore;
    const extracted = { abuseConfidenceScore: score, totalReports: d.totalReports, numDistinctUsers: d.numDistinctUsers, countryCode: d.countryCode, usageType: d.usageType, isp: d.isp, domain: d.domain, isTor: d.isTor, isWhitelisted: d.isWhitelisted, lastReportedAt: d.lastReportedAt ? new Date(d.lastReportedAt).toISOString() : null };
    const [verdict, confidence, rule] = score >= 75 ? ['malicious', 'high', 'abuseConfidenceScore>=75'] : score >= 25 ? ['suspicious', 'medium', 'abuseConfidenceScore>=25'] : ['benign', 'low', 'otherwise'];
    return { kind: 'found', verdict, confidence, reasons: [{ rule, message: `AbuseIPDB confidence of abuse ${score}% from ${d.totalReports} reports`, values: { abuseConfidenceScore: score } }], extracted, entities: [{ type: 'indicator', name: `Indicator of ${observable.type}: ${observable.value}` }] };
  }
}
inject(Tokens.ProviderOptions)(HandWritten, undefined, 0);
inject(Tokens.HttpClient)(HandWritten, undefined, 1);
injectable()(HandWritten);
const handPlugin = definePlugin({ manifest: { ...plugin.manifest, id: 'hand', packageName: 'hand' }, register: (r) => r.provider(HandWritten) });

const N = Number(process.env.BENCH_LOOKUPS ?? 4000);
const CONCURRENCY = 16;
const config = { cache: false, rateLimit: false, resilience: { retry: false, circuitBreaker: false } };

async function measure(loaded) {
  const enricher = createEnricher({ providers: [loaded], cacheStore: false, concurrency: CONCURRENCY });
  const ips = (offset) => Array.from({ length: N }, (_, i) => `11.${(offset >> 8) & 255}.${(i >> 8) & 255}.${i & 255}`);
  await enricher.enrich(ips(1).slice(0, 500));
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const { records } = await enricher.enrich(ips(2));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  if (records.some((r) => r.status !== 'ok')) throw new Error(`bench: ${records.find((r) => r.status !== 'ok').error?.message}`);
  await enricher.close();
  return { cpuUsPerLookup: (used.user + used.system) / N, wallMs };
}

const declarative = loadTestProvider(plugin, { name: 'declarative', options: { recipe: 'abuseipdb', apiKey: 'k', baseUrl }, config });
const hand = { ...loadTestProvider(plugin, { name: 'hand', options: { recipe: 'abuseipdb', apiKey: 'k', baseUrl }, config }), plugin: handPlugin };
// Alternate, three rounds each, and keep each one's best: the machine's noise hits both alike.
const runs = { declarative: [], hand: [] };
for (let round = 0; round < 3; round++) {
  runs.hand.push(await measure(hand));
  runs.declarative.push(await measure(declarative));
}
const best = (list) => list.reduce((a, b) => (b.cpuUsPerLookup < a.cpuUsPerLookup ? b : a));
const d = best(runs.declarative);
const h = best(runs.hand);
server.close();
const ratio = d.cpuUsPerLookup / h.cpuUsPerLookup;
console.log(JSON.stringify({ lookups: N, concurrency: CONCURRENCY, declarativeCpuUsPerLookup: Number(d.cpuUsPerLookup.toFixed(1)), handWrittenCpuUsPerLookup: Number(h.cpuUsPerLookup.toFixed(1)), ratio: Number(ratio.toFixed(2)), goal: 1.5 }, null, 2));
console.table({
  'declarative (µs CPU per lookup, incl. HTTP)': { value: d.cpuUsPerLookup.toFixed(1) },
  'hand-written (µs CPU per lookup, incl. HTTP)': { value: h.cpuUsPerLookup.toFixed(1) },
  'declarative / hand-written': { value: ratio.toFixed(2), goal: '<= 1.5' },
});
