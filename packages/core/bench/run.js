/* global console, process, setTimeout */
// Engine benchmarks: `pnpm --filter @x/core bench` (runs on dist/, so build first).
// Prints a table and, last, one JSON line with every figure. Not part of the test suite.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { createEnricher } from '../dist/index.js';
import { loadTestProvider } from '../dist/testing/prepare.js';

const FOUND = Object.freeze({ kind: 'found', verdict: 'benign', confidence: 'high', reasons: [], extracted: {}, entities: [] });

function plugin(enrich) {
  class BenchProvider {
    enrich(observable) {
      return enrich(observable);
    }
  }
  return {
    manifest: {
      id: 'bench',
      packageName: 'bench',
      version: '0.0.0',
      displayName: 'Bench',
      description: 'In-process provider for benchmarks.',
      coreRange: '*',
      observableTypes: ['ipv4', 'domain', 'sha256'],
      optionsSchema: z.object({}),
      defaultCacheTtlMs: { ipv4: 3_600_000, domain: 3_600_000, sha256: 3_600_000 },
      defaultRateLimits: [],
      docsUrl: 'https://example.org',
    },
    register: (registrar) => registrar.provider(BenchProvider),
  };
}

const ipv4 = (i) => ({ type: 'ipv4', value: `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
const gc = () => globalThis.gc?.();

// Wall-clock time and this process's CPU time: on a busy machine wall time includes waiting
// for a CPU, so the CPU-time figure says what the engine itself costs.
function start() {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { wallUs: (performance.now() - wall) * 1000, cpuUs: used.user + used.system };
  };
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ROUNDS = 7;

// Each figure is the median of several rounds: on a shared machine one round can be slowed by
// other processes or a major GC, and the median says what the engine costs.
async function cacheHitThroughput({ strings }) {
  const enricher = createEnricher({ providers: [loadTestProvider(plugin(async () => FOUND))], concurrency: 64 });
  const distinct = Array.from({ length: 1_000 }, (_, i) => (strings ? ipv4(i).value : ipv4(i)));
  await enricher.enrich(distinct); // warm the cache
  const inputs = Array.from({ length: 50_000 }, (_, i) => distinct[i % distinct.length]);
  const rates = [];
  const cpuRates = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    gc();
    const t = start();
    const { records } = await enricher.enrich(inputs);
    const { wallUs, cpuUs } = t();
    if (!records.every((r) => r.cache.hit)) throw new Error('expected only cache hits');
    if (round > 0) {
      // round 0 warms the JIT
      rates.push(inputs.length / (wallUs / 1e6));
      cpuRates.push(inputs.length / (cpuUs / 1e6));
    }
  }
  return { wall: Math.round(median(rates)), cpu: Math.round(median(cpuRates)) };
}

async function missOverhead() {
  const N = 20_000;
  const provider = async () => FOUND;
  const enricher = createEnricher({ providers: [loadTestProvider(plugin(provider))], concurrency: 64 });
  const timed = async (fn) => {
    gc();
    const t = start();
    await fn();
    const { wallUs, cpuUs } = t();
    return { wall: wallUs / N, cpu: cpuUs / N }; // µs per lookup
  };
  // Baseline: the provider called directly with the same concurrency (64 workers).
  const direct = async (offset) => {
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < N) await provider(ipv4(offset + next++));
    }));
  };
  // Every lookup is a miss (new observables each round): parse, cache read and write,
  // coalescing map, retry + circuit breaker + bulkhead + timeout, provider call, record.
  const engine = async (offset) => {
    const { records } = await enricher.enrich(Array.from({ length: N }, (_, i) => ipv4(offset + i)));
    if (records.some((r) => r.cache.hit || r.status !== 'ok')) throw new Error('expected only misses');
  };
  const rounds = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const offset = (round + 1) * N;
    const p = await timed(() => direct(offset));
    const e = await timed(() => engine(offset));
    if (round > 0) rounds.push({ p, e });
  }
  const fig = (k) => {
    const perLookupUs = median(rounds.map((r) => r.e[k]));
    const providerOnlyUs = median(rounds.map((r) => r.p[k]));
    return { perLookupUs, providerOnlyUs, overheadUs: perLookupUs - providerOnlyUs };
  };
  return { wall: fig('wall'), cpu: fig('cpu') };
}

async function coalescing() {
  let calls = 0;
  const enricher = createEnricher({
    providers: [loadTestProvider(plugin(async () => (calls++, await new Promise((r) => setTimeout(r, 5)), FOUND)))],
    concurrency: 1_000,
  });
  await enricher.enrich(Array.from({ length: 1_000 }, (_, i) => ipv4(i % 10)));
  return calls;
}

const hits = await cacheHitThroughput({ strings: false });
const hitsStrings = await cacheHitThroughput({ strings: true });
const miss = await missOverhead();
const results = {
  cacheHitPerCpuSecond: hits.cpu,
  cacheHitPerSecondWall: hits.wall,
  cacheHitPerCpuSecondStringInputs: hitsStrings.cpu,
  missOverheadCpuUs: miss.cpu.overheadUs,
  missOverheadWallUs: miss.wall.overheadUs,
  missProviderOnlyCpuUs: miss.cpu.providerOnlyUs,
  coalescingProviderCalls: await coalescing(),
};

const n = (x) => Math.round(x).toLocaleString('en');
const rows = [
  ['cache-hit throughput, per CPU-second', `${n(results.cacheHitPerCpuSecond)} /s`, '>= 300,000 /s', results.cacheHitPerCpuSecond >= 300_000],
  ['  same, wall clock', `${n(results.cacheHitPerSecondWall)} /s`, '', true],
  ['  string inputs (parsed), per CPU-second', `${n(results.cacheHitPerCpuSecondStringInputs)} /s`, '', true],
  ['engine overhead on a miss, CPU time', `${results.missOverheadCpuUs.toFixed(2)} µs`, '< 20 µs', results.missOverheadCpuUs < 20],
  ['  same, wall clock', `${results.missOverheadWallUs.toFixed(2)} µs`, '', true],
  ['coalescing: 1,000 lookups of 10 observables', `${results.coalescingProviderCalls} provider calls`, '= 10', results.coalescingProviderCalls === 10],
];
console.log(`node ${process.version}, ${process.platform}/${process.arch}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}\n`);
console.log(['figure'.padEnd(46), 'measured'.padEnd(22), 'target'.padEnd(16), 'ok'].join(''));
for (const [name, value, target, ok] of rows) console.log([name.padEnd(46), value.padEnd(22), target.padEnd(16), target ? (ok ? 'yes' : 'NO') : ''].join(''));
console.log(JSON.stringify({ benchmark: '@x/core engine', node: process.version, cpus: os.cpus().length, loadAverage: os.loadavg()[0], ...results, ok: rows.every((r) => r[3]) }));
