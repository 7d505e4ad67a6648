// Provider benchmarks: `pnpm --filter @x/provider-virustotal-v3 bench` (runs on dist/, so build first).
// Prints a table and, last, one JSON line with every figure. Not part of the test suite.
/* global URL, AbortController, Buffer, console, fetch, process */
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createEnricher, createHttpClient, parseJsonWithout, zProviderInstanceConfig, zProviderManifest } from '@x/core';
import { outcomeObservables, startSimulator } from '@x/virustotal-simulator';
import plugin, { DEFAULT_MALICE_RULES, EXTRACT_GROUPS, GTI_PREFERRED_MALICE_RULES, zVirusTotalV3Options } from '../dist/index.js';
// Private pieces, measured directly (the package's index exports only what hosts need).
import { mapV3Object } from '../dist/mapping.js';
import { VirusTotalV3Provider } from '../dist/provider.js';
import { UNREAD_MEMBERS } from '../dist/client.js';

const FIXTURES = new URL('../test/fixtures/', import.meta.url);
const API_KEY = 'bench-key';
const gc = () => globalThis.gc?.();

/** Real captures with the observable each answers, for the pure mapping. */
function captures() {
  const type = { ip_address: 'ipv4', domain: 'domain', file: 'sha256', url: 'url' };
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.json') && !name.startsWith('error_') && !name.startsWith('collection_'))
    .map((name) => {
      const body = JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));
      const object = body.data ?? body;
      return { observable: { type: type[object.type], value: object.type === 'url' ? object.attributes.url : object.id }, body };
    });
}

/** Maps every capture N times with `rules` and `depth`; µs per object. */
function timeMapping(list, rules, depth) {
  const N = 50_000;
  for (let i = 0; i < 5_000; i++) mapV3Object(list[i % list.length].observable, list[i % list.length].body, rules, depth);
  gc();
  const started = performance.now();
  for (let i = 0; i < N; i++) mapV3Object(list[i % list.length].observable, list[i % list.length].body, rules, depth);
  const ms = performance.now() - started;
  return { objectsPerSecond: Math.round(N / (ms / 1000)), microsecondsPerObject: Number(((ms * 1000) / N).toFixed(1)) };
}

/**
 * The mapping alone: the seed's fields (default options), then every extract group with rule
 * text, relationships and the gti-preferred rules, over the same captures in the same run.
 * The ratio is the figure to watch: what a user pays per object for asking for everything.
 */
function mappingThroughput() {
  const list = captures();
  const base = timeMapping(list, DEFAULT_MALICE_RULES, {});
  const extended = timeMapping(list, GTI_PREFERRED_MALICE_RULES, { extract: [...EXTRACT_GROUPS], ruleText: true, relationships: true });
  return { ...base, captures: list.length, extended, extendedCostRatio: Number((extended.microsecondsPerObject / base.microsecondsPerObject).toFixed(2)) };
}

/**
 * What a miss pays to parse its answer: `JSON.parse` of the whole body against core's
 * `parseJsonWithout` leaving out `UNREAD_MEMBERS` (what the provider's requests ask for while no
 * lookup wants the raw response), over the captures' texts and the simulator's objects, in turn.
 */
async function parseCost(sim) {
  const objects = readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.json') && !name.startsWith('error_') && !name.startsWith('collection_'))
    .map((name) => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')));
  for (const path of ['ip_addresses/12.0.0.1', 'domains/host-1.bench.example', `files/${'ab'.repeat(32)}`]) {
    objects.push(await (await fetch(`${sim.v3Url}/${path}`, { headers: { 'x-apikey': API_KEY } })).json());
  }
  // As a miss meets them: bytes off the socket, decoded, then parsed. Compact (the simulator's
  // spelling) and indented by 4 spaces (an API may pretty-print; the captures were re-indented).
  // Each body on its own (best of 5 rounds, decoding subtracted): a few 100-300 KB file objects
  // would otherwise outweigh the 10-30 KB objects most lookups get.
  const time = (body, parse) => {
    let best = Infinity;
    for (let round = 0; round < 5; round++) {
      const started = performance.now();
      for (let i = 0; i < 100; i++) parse(body.toString('utf8'));
      best = Math.min(best, ((performance.now() - started) * 1000) / 100);
    }
    return best;
  };
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const out = { bodies: objects.length };
  for (const [spelling, indent] of [['compact', undefined], ['indented', 4]]) {
    const wholes = [];
    const ratios = [];
    for (const object of objects) {
      const body = Buffer.from(JSON.stringify(object, null, indent));
      const decode = time(body, () => undefined);
      const whole = time(body, (text) => JSON.parse(text)) - decode;
      const without = time(body, (text) => parseJsonWithout(text, UNREAD_MEMBERS)) - decode;
      wholes.push(whole);
      ratios.push(without / whole);
    }
    out[spelling] = { medianWholeMicroseconds: Number(median(wholes).toFixed(1)), medianRatio: Number(median(ratios).toFixed(2)), bestRatio: Number(Math.min(...ratios).toFixed(2)), worstRatio: Number(Math.max(...ratios).toFixed(2)) };
  }
  gc();
  return out;
}

function benchInputs() {
  const inputs = [];
  for (let variant = 0; inputs.length < 3_000; variant++) {
    for (const type of ['domain', 'sha256', 'url', 'ipv6']) for (const value of Object.values(outcomeObservables(type, variant + 1))) inputs.push({ type, value });
  }
  return inputs;
}

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

/** Baseline without the engine: the provider called directly over core's HTTP client, 64 at a time. */
async function directProvider(sim) {
  const provider = new VirusTotalV3Provider(zVirusTotalV3Options.parse({ apiKey: API_KEY, baseUrl: sim.v3Url }), createHttpClient({ maxSockets: 64 }), { now: () => Date.now() });
  const inputs = benchInputs();
  const run = async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < inputs.length) await provider.enrich(inputs[next++], { signal: new AbortController().signal, logger: silent });
      }),
    );
  };
  await run(); // warm up
  gc();
  const started = performance.now();
  await run();
  return { lookups: inputs.length, lookupsPerSecond: Math.round(inputs.length / ((performance.now() - started) / 1000)) };
}

async function endToEnd(sim) {
  const manifest = zProviderManifest.parse(plugin.manifest);
  const options = { apiKey: API_KEY, baseUrl: sim.v3Url };
  const loaded = {
    name: 'vt3',
    plugin,
    manifest,
    options: zVirusTotalV3Options.parse(options),
    config: zProviderInstanceConfig.parse({ use: manifest.packageName, options, rateLimit: false, resilience: { circuitBreaker: false, bulkhead: { maxConcurrent: 64 } } }),
  };
  const enricher = createEnricher({ providers: [loaded], concurrency: 64 });
  const inputs = benchInputs();
  await enricher.enrich(inputs.slice(0, 200), { refresh: true }); // warm up
  sim.reset();
  gc();
  let started = performance.now();
  const { records } = await enricher.enrich(inputs, { refresh: true });
  const missSeconds = (performance.now() - started) / 1000;
  const upstream = sim.stats().total;
  if (records.some((r) => r.status === 'error')) throw new Error(`errors: ${records.find((r) => r.status === 'error').error.message}`);
  gc();
  started = performance.now();
  const again = await enricher.enrich(inputs);
  const hitSeconds = (performance.now() - started) / 1000;
  // Pending records (queued objects among the inputs) are never cached, by design.
  const missed = again.records.find((r) => !r.cache.hit && r.status !== 'pending');
  if (missed) throw new Error(`expected only cache hits: ${JSON.stringify(missed)}`);
  await enricher.close();
  return { lookups: inputs.length, upstreamRequests: upstream, lookupsPerSecondUpstream: Math.round(inputs.length / missSeconds), lookupsPerSecondCached: Math.round(inputs.length / hitSeconds) };
}

const sim = await startSimulator({ port: 0, apiKeys: [API_KEY] });
try {
  const mapping = mappingThroughput();
  // Printed at once: the figure does not depend on the network parts below.
  console.log(`mapping: ${mapping.microsecondsPerObject} µs/object with the default fields, ${mapping.extended.microsecondsPerObject} µs/object with every extract group (x${mapping.extendedCostRatio})`);
  const parse = await parseCost(sim);
  const direct = await directProvider(sim);
  const e2e = await endToEnd(sim);
  const rows = [
    ['mapping (pure, real captures)', `${mapping.objectsPerSecond.toLocaleString('en')} objects/s`, `${mapping.microsecondsPerObject} µs/object over ${mapping.captures} captures`],
    ['mapping, every extract group', `${mapping.extended.objectsPerSecond.toLocaleString('en')} objects/s`, `${mapping.extended.microsecondsPerObject} µs/object (x${mapping.extendedCostRatio} the default fields)`],
    ...['compact', 'indented'].map((spelling) => [
      `parse an answer (${spelling}), unread cut`,
      `x${parse[spelling].medianRatio} JSON.parse`,
      `median over ${parse.bodies} bodies (captures + simulator; JSON.parse ${parse[spelling].medianWholeMicroseconds} µs), x${parse[spelling].bestRatio} to x${parse[spelling].worstRatio}; ${UNREAD_MEMBERS.join(', ')} cut before parsing`,
    ]),
    ['provider direct + simulator', `${direct.lookupsPerSecond.toLocaleString('en')} lookups/s`, `${direct.lookups} lookups, concurrency 64, no engine (baseline)`],
    ['engine + simulator, cache miss', `${e2e.lookupsPerSecondUpstream.toLocaleString('en')} lookups/s`, `${e2e.lookups} lookups, ${e2e.upstreamRequests} requests, concurrency 64, no rate limit`],
    ['engine, cache hit', `${e2e.lookupsPerSecondCached.toLocaleString('en')} lookups/s`, `${e2e.lookups} lookups`],
  ];
  console.table(rows.map(([bench, result, note]) => ({ bench, result, note })));
  console.log(JSON.stringify({ node: process.version, mapping, parse, directProvider: direct, endToEnd: e2e }));
} finally {
  await sim.close();
}
