// Quota-efficiency benchmark: `pnpm --filter @x/provider-virustotal-v2 bench` (runs on dist/:
// build this package, @x/core and @x/virustotal-simulator first). N distinct hashes go through
// core's engine against the simulator, once with batching (the plugin as shipped) and once with
// the batch declaration removed; the simulator's counters give the upstream requests.
// Prints a table and, last, one JSON line with every figure. Not part of the test suite.
import { performance } from 'node:perf_hooks';
import { createEnricher, prepareProvider } from '@x/core';
import { observableFor, startSimulator } from '@x/virustotal-simulator';
import plugin from '../dist/index.js';

const API_KEY = 'bench-key';
const SIZES = [1, 4, 10, 100, 1000];

function unbatched() {
  const { batch: _batch, ...manifest } = plugin.manifest;
  return { ...plugin, manifest };
}

async function run(sim, variant, size) {
  sim.reset();
  const used = variant === 'batched' ? plugin : unbatched();
  // No local rate limit: this measures requests, not waiting for a public key's minute window.
  const loaded = prepareProvider('vt2', used, { options: { apiKey: API_KEY, apiUrl: sim.v2Url }, rateLimit: false }, { onWarning: () => {} });
  const enricher = createEnricher({ providers: [loaded], cacheStore: false, concurrency: 64 });
  const hashes = Array.from({ length: size }, (_, i) => observableFor({ type: 'sha256', malicious: i % 70, total: 70, variant: i + 1 }));
  const started = performance.now();
  const { records } = await enricher.enrich(hashes);
  const ms = performance.now() - started;
  await enricher.close();
  const ok = records.filter((record) => record.status === 'ok').length;
  const requests = sim.stats().byEndpoint['v2 file/report'] ?? 0;
  return { variant, hashes: size, ok, requests, expected: variant === 'batched' ? Math.ceil(size / 4) : size, ms: Math.round(ms), lookupsPerSec: Math.round((size / ms) * 1000) };
}

const sim = await startSimulator({ port: 0, apiKeys: [API_KEY] });
const rows = [];
try {
  for (const size of SIZES) for (const variant of ['batched', 'unbatched']) rows.push(await run(sim, variant, size));
} finally {
  await sim.close();
}
console.table(rows);
const at4PerMinute = (requests) => `${Math.ceil(requests / 4)} min`;
console.log(`At the public 4 requests/min, 1000 hashes take ${at4PerMinute(rows.find((r) => r.hashes === 1000 && r.variant === 'batched').requests)} batched vs ${at4PerMinute(1000)} unbatched (and the 500/day cap allows 2000 hashes/day instead of 500).`);
console.log(JSON.stringify({ bench: 'provider-virustotal-v2 quota efficiency', node: process.version, rows }));
