// `pnpm bench` for the app: cold start of a cached lookup, a 100,000-line batch through the CLI,
// and `serve` throughput on cached lookups. Prints JSON (one object) and a table.
// Run from apps/enricher after a build; needs no network (the simulator runs in-process).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startSimulator } from '@x/virustotal-simulator';
import { benchMcp } from './mcp.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(APP, 'dist', 'cli.js');
const RSS_HOOK = join(APP, 'bench', 'max-rss.mjs');
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const DISTINCT = Number(process.env.BENCH_DISTINCT ?? 10_000);

function run(args, { env = {}, cwd, stdout = 'ignore' } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', RSS_HOOK, CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    let out = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout?.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ms: Number(process.hrtime.bigint() - started) / 1e6, stderr, stdout: out }));
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
// Distinct observables: IPv4 addresses and domains (neither is batched by v2, so upstream
// requests per provider must equal the distinct observables exactly).
const observable = (i) => (i % 2 ? `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `host-${i}.bench.example`);

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'x-enrich-bench-'));
  const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
  const config = join(dir, 'x-enrich.yaml');
  await writeFile(
    config,
    `providers:
  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false }
  vt2: { use: "@x/provider-virustotal-v2", options: { apiKey: bench, apiUrl: "${simulator.v2Url}" }, rateLimit: false }
concurrency: 64
`,
  );
  const results = {};
  try {
    // 1. Cold start: one cached observable, process start to exit.
    const cache = join(dir, 'cache-cold');
    const args = ['--config', config, 'enrich', '--cache-dir', cache, '--quiet', '--format', 'jsonl', '8.8.8.8'];
    await run(args, { cwd: dir });
    const runs = [];
    for (let i = 0; i < 7; i += 1) runs.push((await run(args, { cwd: dir })).ms);
    results.coldStartCachedMs = { median: Math.round(median(runs)), min: Math.round(Math.min(...runs)), target: 400 };

    // 2. Batch: LINES lines, DISTINCT distinct observables, to jsonl.
    const input = join(dir, 'batch.txt');
    const lines = [];
    for (let i = 0; i < LINES; i += 1) lines.push(observable((i * 7919) % DISTINCT));
    await writeFile(input, lines.join('\n') + '\n');
    await fetch(`${simulator.url}/__sim/reset`, { method: 'POST' });
    const rssFile = join(dir, 'rss');
    const batch = await run(['--config', config, 'enrich', '--cache-dir', join(dir, 'cache-batch'), '--quiet', '--format', 'jsonl', '--input', input], {
      cwd: dir,
      env: { X_ENRICH_BENCH_RSS_FILE: rssFile },
    });
    const stats = await (await fetch(`${simulator.url}/__sim/stats`)).json();
    const byEndpoint = stats.byEndpoint ?? {};
    const sum = (prefix) => Object.entries(byEndpoint).filter(([name]) => name.includes(prefix)).reduce((total, [, count]) => total + Number(count), 0);
    results.batch = {
      lines: LINES,
      distinct: DISTINCT,
      exitCode: batch.code,
      seconds: Number((batch.ms / 1000).toFixed(2)),
      linesPerSecond: Math.round(LINES / (batch.ms / 1000)),
      upstreamCallsV3: sum('v3 '),
      upstreamCallsV2: sum('v2 '),
      upstreamTotal: stats.total,
      peakRssMb: Math.round(Number(await readFile(rssFile, 'utf8')) / 1024 / 1024),
      targetPeakRssMb: 300,
    };

    // 3. serve: cached lookups under load on loopback.
    const serve = spawn(process.execPath, [CLI, '--config', config, '--log-level', 'error', 'serve', '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    const base = await new Promise((resolve) => {
      let seen = '';
      serve.stdout.on('data', (chunk) => {
        seen += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(seen);
        if (match) resolve(match[1]);
      });
    });
    const body = JSON.stringify({ observables: ['8.8.8.8'] });
    await fetch(`${base}/v1/enrich`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const load = await autocannon({ url: `${base}/v1/enrich`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 32, duration: 10 });
    results.serveCached = { requestsPerSecond: Math.round(load.requests.average), p99Ms: load.latency.p99, p50Ms: load.latency.p50, errors: load.errors, non2xx: load.non2xx, connections: 32, durationS: 10 };
    serve.kill('SIGTERM');

    // 4. MCP: an enrich call of 100 cached observables over stdio and HTTP.
    results.mcp = await benchMcp({ cli: CLI, config, dir });
  } finally {
    await simulator.close();
    await rm(dir, { recursive: true, force: true });
  }

  console.log(JSON.stringify(results, null, 2));
  console.table({
    'cold start, cached (median ms)': { value: results.coldStartCachedMs.median, target: '< 400' },
    [`batch ${LINES} lines (s)`]: { value: results.batch.seconds, target: '' },
    'batch upstream calls v3 / v2': { value: `${results.batch.upstreamCallsV3} / ${results.batch.upstreamCallsV2}`, target: `${DISTINCT} / ${DISTINCT}` },
    'batch peak RSS (MB)': { value: results.batch.peakRssMb, target: '< 300' },
    'serve cached req/s': { value: results.serveCached.requestsPerSecond, target: '' },
    'serve cached p99 (ms)': { value: results.serveCached.p99Ms, target: '' },
    'MCP enrich, 100 cached, stdio (median / p95 ms)': { value: `${results.mcp.stdio.medianMs} / ${results.mcp.stdio.p95Ms}`, target: '< 50' },
    'MCP enrich, 100 cached, HTTP (median / p95 ms)': { value: `${results.mcp.http.medianMs} / ${results.mcp.http.p95Ms}`, target: '< 50' },
  });
}

await main();
