// `pnpm bench` for the app: each x-enrich figure next to its floor, measured on the same machine
// in the same run, printed as one table (figure, x-enrich, floor, ratio, goal, pass/fail) after
// one JSON object with every raw figure. Issue 16 set the goals; docs/performance.md has the
// figures and the machine they ran on. Run from apps/enricher after a build; no network needed
// (the simulator runs in this process, x-enrich and every floor in their own processes).
// Environment: BENCH_LINES (100000), BENCH_DISTINCT (10000), BENCH_MISSES (10000),
// BENCH_SERVE_S (10 seconds per autocannon run), BENCH_ONLY (comma list: misses,feed,cold,serve,mcp),
// BENCH_COLD_BASELINE (another build's dist/cli.js, timed beside this one in the cold-start rounds).
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startSimulator } from '@x/virustotal-simulator';
import { benchMcp } from './mcp.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(APP, 'dist', 'cli.js');
const FLOORS = join(APP, 'bench', 'floors.mjs');
const RSS_HOOK = join(APP, 'bench', 'max-rss.mjs');
const CPU_HOOK = join(APP, 'bench', 'cpu-usage.mjs');
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const DISTINCT = Number(process.env.BENCH_DISTINCT ?? 10_000);
const MISSES = Number(process.env.BENCH_MISSES ?? 10_000);
const SERVE_S = Number(process.env.BENCH_SERVE_S ?? 10);
const CONCURRENCY = 64;
const CONNECTIONS = 32;
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;
const wanted = (part) => !ONLY || ONLY.has(part);

/** Runs `node ...argv` to exit; resolves with its wall time. `stdout` may be 'ignore', 'pipe' or a file path. */
function node(argv, { env = {}, cwd, stdout = 'ignore' } = {}) {
  return new Promise((resolve, reject) => {
    const toFile = stdout !== 'ignore' && stdout !== 'pipe';
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', toFile ? 'pipe' : stdout, 'pipe'] });
    let stderr = '';
    let out = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    if (toFile) child.stdout.pipe(createWriteStream(stdout));
    else child.stdout?.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0 && code !== 3) reject(new Error(`node ${argv.join(' ')} exited ${code}: ${stderr.slice(0, 2000)}`));
      else resolve({ code, ms, stderr, stdout: out });
    });
  });
}

/**
 * Starts a long-running child that prints `listening on <url>`; resolves with the url and the child.
 * `stderr: 'count'` reads its stderr (a pipe, as under a service manager) and counts its lines.
 */
function listening(argv, cwd, { stderr = 'inherit' } = {}) {
  const child = spawn(process.execPath, argv, { cwd, stdio: ['ignore', 'pipe', stderr === 'count' ? 'pipe' : 'inherit'] });
  let lines = 0;
  child.stderr?.on('data', (chunk) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code} before listening`)));
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve({ url: match[1], child, stderrLines: () => lines });
    });
  });
}

const stop = (child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGTERM'))));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value, digits = 2) => Number(value.toFixed(digits));
// Distinct observables: IPv4 addresses and domains (neither is batched by v2, so upstream
// requests per provider must equal the distinct observables exactly).
const observable = (i) => (i % 2 ? `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `host-${i}.bench.example`);

async function stats(simulator) {
  const body = await (await fetch(`${simulator.url}/__sim/stats`)).json();
  const byEndpoint = body.byEndpoint ?? {};
  const sum = (prefix) => Object.entries(byEndpoint).filter(([name]) => name.startsWith(prefix)).reduce((total, [, count]) => total + Number(count), 0);
  return { v3: sum('v3 '), v2: sum('v2 '), total: body.total };
}
const reset = (simulator) => fetch(`${simulator.url}/__sim/reset`, { method: 'POST' });

/** (a) misses: x-enrich --no-cache with one vt3 instance vs a bare keep-alive client, same simulator and concurrency. */
async function misses(simulator, dir) {
  const config = join(dir, 'vt3-only.yaml');
  // The floor keeps CONCURRENCY requests in flight over as many keep-alive sockets; x-enrich's
  // instance gets the same (its bulkhead's `maxConcurrent`, default 10, also sizes its sockets),
  // so both run at the same concurrency upstream, as a premium key would be configured.
  await writeFile(config, `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false, resilience: { bulkhead: { maxConcurrent: ${CONCURRENCY} } } }\nconcurrency: ${CONCURRENCY}\n`);
  // Floor, x-enrich, x-enrich, floor: load that comes and goes on a shared machine, and the
  // simulator warming up or filling, fall on both sides; the figures are the totals of the two
  // runs of each. Every run asks for objects the simulator has not generated yet (its own first
  // octet: 11 and 14 for the floor, 12 and 13 for x-enrich), after a reset of its counters.
  // Each child also reports the CPU it used (bench/cpu-usage.mjs): steadier than wall time under load.
  const cpuUs = async (file) => Number(await readFile(file, 'utf8'));
  const floorRun = async (octet) => {
    await reset(simulator);
    const cpuFile = join(dir, `cpu-floor-${octet}`);
    const run = await node(['--import', CPU_HOOK, FLOORS, 'http', simulator.v3Url, 'bench', String(MISSES), String(CONCURRENCY), String(octet)], { stdout: 'pipe', env: { X_ENRICH_BENCH_CPU_FILE: cpuFile } });
    // Timed as x-enrich is, from spawn to exit; its request loop alone is reported beside it.
    return { ms: run.ms, loopMs: JSON.parse(run.stdout).ms, cpuUs: await cpuUs(cpuFile) };
  };
  const xEnrichRun = async (octet) => {
    await reset(simulator);
    const input = join(dir, `misses-${octet}.txt`);
    await writeFile(input, Array.from({ length: MISSES }, (_, i) => `${octet}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).join('\n') + '\n');
    const cpuFile = join(dir, `cpu-x-enrich-${octet}`);
    const run = await node(['--import', CPU_HOOK, CLI, '--config', config, 'enrich', '--no-cache', '--quiet', '--format', 'jsonl', '--concurrency', String(CONCURRENCY), '--input', input], { cwd: dir, env: { X_ENRICH_BENCH_CPU_FILE: cpuFile } });
    const calls = await stats(simulator);
    if (calls.v3 !== MISSES) throw new Error(`bench misses: expected ${MISSES} upstream calls, saw ${calls.v3}`);
    return { ms: run.ms, cpuUs: await cpuUs(cpuFile) };
  };
  const floors = [await floorRun(11)];
  const runs = [await xEnrichRun(12), await xEnrichRun(13)];
  floors.push(await floorRun(14));
  const total = (list, key) => list.reduce((sum, run) => sum + run[key], 0);
  const lookups = 2 * MISSES;
  // Both figures are the whole process, spawn to exit (start included), as a user waits for
  // them; until 2 Dec 2026 08:55 the floor's was its request loop alone, still reported
  // (floorLoopPerSecond) for the stricter comparison. CPU per lookup is whole-process for both
  // (start, JIT and GC threads included).
  return {
    lookups: MISSES,
    concurrency: CONCURRENCY,
    runs: 2,
    xEnrichPerSecond: Math.round(lookups / (total(runs, 'ms') / 1000)),
    xEnrichSeconds: runs.map((run) => round(run.ms / 1000)),
    xEnrichCpuUsPerLookup: Math.round(total(runs, 'cpuUs') / lookups),
    floorPerSecond: Math.round(lookups / (total(floors, 'ms') / 1000)),
    floorSeconds: floors.map((run) => round(run.ms / 1000)),
    floorLoopPerSecond: Math.round(lookups / (total(floors, 'loopMs') / 1000)),
    floorLoopSeconds: floors.map((run) => round(run.loopMs / 1000)),
    floorCpuUsPerRequest: Math.round(total(floors, 'cpuUs') / lookups),
  };
}

/** (b) a feed: the cold first run, the warm re-run (file cache) and the parse-and-serialise floor of its output. */
async function feed(simulator, dir, config) {
  const input = join(dir, 'feed.txt');
  const lines = [];
  for (let i = 0; i < LINES; i += 1) lines.push(observable((i * 7919) % DISTINCT));
  await writeFile(input, lines.join('\n') + '\n');
  const cacheDir = join(dir, 'cache-feed');
  const args = [CLI, '--config', config, 'enrich', '--cache-dir', cacheDir, '--quiet', '--format', 'jsonl', '--input', input];
  await reset(simulator);
  const coldRss = join(dir, 'rss-cold');
  const cold = await node(['--import', RSS_HOOK, ...args], { cwd: dir, env: { X_ENRICH_BENCH_RSS_FILE: coldRss } });
  const calls = await stats(simulator);
  await reset(simulator);
  const warmRss = join(dir, 'rss-warm');
  const output = join(dir, 'feed-out.jsonl');
  const warm = await node(['--import', RSS_HOOK, ...args], { cwd: dir, env: { X_ENRICH_BENCH_RSS_FILE: warmRss }, stdout: output });
  const warmCalls = await stats(simulator);
  if (warmCalls.total !== 0) throw new Error(`bench feed: the warm re-run called upstream ${warmCalls.total} times`);
  const floor = JSON.parse((await node([FLOORS, 'json', output], { stdout: 'pipe' })).stdout);
  // One record per line and provider instance (vt3, vt2).
  if (floor.records !== LINES * 2) throw new Error(`bench feed: expected ${LINES * 2} output records, got ${floor.records}`);
  const mb = async (file) => Math.round(Number(await readFile(file, 'utf8')) / 1024 / 1024);
  return {
    lines: LINES,
    distinct: DISTINCT,
    coldSeconds: round(cold.ms / 1000),
    coldUpstreamV3: calls.v3,
    coldUpstreamV2: calls.v2,
    coldPeakRssMb: await mb(coldRss),
    warmSeconds: round(warm.ms / 1000),
    warmLinesPerSecond: Math.round(LINES / (warm.ms / 1000)),
    warmPeakRssMb: await mb(warmRss),
    records: floor.records,
    outputMb: round(floor.bytes / 1024 / 1024, 1),
    floorSeconds: round(floor.ms / 1000),
  };
}

/**
 * (c) cold start of a cached lookup vs `node -e 0`, medians of 7 runs each, interleaved.
 * BENCH_COLD_BASELINE=<another build's dist/cli.js> times that CLI too, in the same rounds, for
 * before/after figures from one run (its own cache directory: builds may key entries differently).
 */
async function coldStart(dir, config) {
  const args = (cli, cache) => [cli, '--config', config, 'enrich', '--cache-dir', join(dir, cache), '--quiet', '--format', 'jsonl', '8.8.8.8'];
  const baseline = process.env.BENCH_COLD_BASELINE;
  await node(args(CLI, 'cache-cold'), { cwd: dir });
  if (baseline) await node(args(baseline, 'cache-cold-baseline'), { cwd: dir });
  const xEnrich = [];
  const bare = [];
  const before = [];
  for (let i = 0; i < 7; i += 1) {
    xEnrich.push((await node(args(CLI, 'cache-cold'), { cwd: dir })).ms);
    bare.push((await node(['-e', '0'], { cwd: dir })).ms);
    if (baseline) before.push((await node(args(baseline, 'cache-cold-baseline'), { cwd: dir })).ms);
  }
  const result = { xEnrichMedianMs: Math.round(median(xEnrich)), xEnrichMinMs: Math.round(Math.min(...xEnrich)), nodeMedianMs: Math.round(median(bare)), nodeMinMs: Math.round(Math.min(...bare)), runs: 7 };
  return baseline ? { ...result, baseline, baselineMedianMs: Math.round(median(before)), baselineMinMs: Math.round(Math.min(...before)) } : result;
}

/**
 * (d) serve, cached POST /v1/enrich of one observable, vs a bare fastify route answering the same
 * body (the bytes of a cached answer). Both listen at once, and the load alternates between them
 * x-enrich, floor, floor, x-enrich, each for half of BENCH_SERVE_S: on a shared machine, load that
 * comes and goes falls on both sides alike. Requests per second: all requests over all rounds of a
 * side; p99 and p50: the worse round of a side. serve runs at its default log level (info, a line
 * per request), its stderr a pipe that is read, as under a service manager.
 */
/** A running process's CPU time so far (user + system, microseconds), from /proc (Linux). */
async function cpuTicksUs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}
// USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK); 10 ms steps over seconds of load.
const CLOCK_TICKS = 100;

async function serve(dir, config) {
  const body = JSON.stringify({ observables: ['8.8.8.8'] });
  const seconds = SERVE_S / 2;
  const load = async (url) => {
    const result = await autocannon({ url: `${url}/v1/enrich`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: CONNECTIONS, duration: seconds });
    if (result.errors || result.non2xx) throw new Error(`bench serve: ${result.errors} errors, ${result.non2xx} non-2xx from ${url}`);
    return { requests: result.requests.total, p99Ms: result.latency.p99, p50Ms: result.latency.p50 };
  };
  const app = await listening([CLI, '--config', config, 'serve', '--port', '0'], dir, { stderr: 'count' });
  let bare;
  try {
    const ask = () => fetch(`${app.url}/v1/enrich`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((response) => response.text());
    await ask();
    // The floor answers the bytes of a cached answer, which is what x-enrich answers under load.
    const answer = await ask();
    if (!JSON.parse(answer).records?.every((record) => record.cache?.hit)) throw new Error('bench serve: the second lookup was not cached');
    const bodyFile = join(dir, 'serve-body.json');
    await writeFile(bodyFile, answer);
    bare = await listening([FLOORS, 'fastify', bodyFile], dir);
    const logLinesBefore = app.stderrLines();
    const rounds = { xEnrich: [], floor: [] };
    for (const side of ['xEnrich', 'floor', 'floor', 'xEnrich']) {
      const child = side === 'xEnrich' ? app.child : bare.child;
      const cpuBefore = await cpuTicksUs(child.pid);
      const round = await load(side === 'xEnrich' ? app.url : bare.url);
      rounds[side].push({ ...round, cpuUs: (await cpuTicksUs(child.pid)) - cpuBefore });
    }
    const sum = (list) => ({
      requestsPerSecond: Math.round(list.reduce((total, round) => total + round.requests, 0) / (list.length * seconds)),
      p99Ms: Math.max(...list.map((round) => round.p99Ms)),
      p50Ms: Math.max(...list.map((round) => round.p50Ms)),
      // The server's own CPU (user + system) per request: steadier than req/s on a loaded machine.
      cpuUsPerRequest: Math.round(list.reduce((total, round) => total + round.cpuUs, 0) / list.reduce((total, round) => total + round.requests, 0)),
    });
    const xEnrich = sum(rounds.xEnrich);
    const requests = rounds.xEnrich.reduce((total, round) => total + round.requests, 0);
    // Let the last lines out before counting them: one per request (autocannon's last requests may
    // still have been in flight when it stopped, so a few more lines than counted requests is fine).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const logLines = app.stderrLines() - logLinesBefore;
    if (logLines < requests) throw new Error(`bench serve: ${requests} requests but ${logLines} request log lines`);
    return { connections: CONNECTIONS, durationS: SERVE_S, responseBytes: Buffer.byteLength(answer), logLines, xEnrich, floor: sum(rounds.floor) };
  } finally {
    await stop(app.child);
    if (bare) await stop(bare.child);
  }
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'x-enrich-bench-'));
  const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
  const config = join(dir, 'x-enrich.yaml');
  await writeFile(
    config,
    `providers:
  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false }
  vt2: { use: "@x/provider-virustotal-v2", options: { apiKey: bench, apiUrl: "${simulator.v2Url}" }, rateLimit: false }
concurrency: ${CONCURRENCY}
`,
  );
  const results = {};
  try {
    if (wanted('misses')) results.misses = await misses(simulator, dir);
    if (wanted('feed')) results.feed = await feed(simulator, dir, config);
    if (wanted('cold')) results.coldStart = await coldStart(dir, config);
    if (wanted('serve')) results.serveCached = await serve(dir, config);
    // An enrich call of 100 cached observables over stdio and HTTP (no floor: an absolute goal).
    if (wanted('mcp')) results.mcp = await benchMcp({ cli: CLI, config, dir });
  } finally {
    await simulator.close();
    await rm(dir, { recursive: true, force: true });
  }

  console.log(JSON.stringify(results, null, 2));
  const rows = [];
  // higher: x-enrich / floor must reach the goal; lower: x-enrich / floor must stay under it.
  const row = (figure, xEnrich, floor, ratio, goal, pass) => rows.push({ figure, 'x-enrich': xEnrich, floor, ratio: ratio === undefined ? '' : round(ratio), goal, result: pass ? 'pass' : 'FAIL' });
  const { misses: m, feed: f, coldStart: c, serveCached: s, mcp } = results;
  if (m) {
    row(`misses: ${m.lookups} IPv4, vt3, c=${m.concurrency} (lookups/s)`, m.xEnrichPerSecond, m.floorPerSecond, m.xEnrichPerSecond / m.floorPerSecond, '>= 0.8x', m.xEnrichPerSecond / m.floorPerSecond >= 0.8);
    row('misses: the floor timed by its loop alone', m.xEnrichPerSecond, m.floorLoopPerSecond, m.xEnrichPerSecond / m.floorLoopPerSecond, 'reported', true);
    row('misses: CPU per lookup, whole process (µs)', m.xEnrichCpuUsPerLookup, m.floorCpuUsPerRequest, m.xEnrichCpuUsPerLookup / m.floorCpuUsPerRequest, 'reported', true);
  }
  if (f) {
    row(`feed warm re-run: ${f.lines} lines, file cache (s)`, f.warmSeconds, f.floorSeconds, f.warmSeconds / f.floorSeconds, '<= 3x', f.warmSeconds / f.floorSeconds <= 3);
    row('feed warm re-run: peak RSS (MB)', f.warmPeakRssMb, '', undefined, '< 300', f.warmPeakRssMb < 300);
    row(`feed cold first run (s; upstream v3/v2 ${f.coldUpstreamV3}/${f.coldUpstreamV2})`, f.coldSeconds, f.floorSeconds, f.coldSeconds / f.floorSeconds, 'reported', f.coldUpstreamV3 === f.distinct && f.coldUpstreamV2 === f.distinct);
    row('feed cold first run: peak RSS (MB)', f.coldPeakRssMb, '', undefined, 'reported', true);
  }
  if (c) row('cold start, cached lookup (median ms)', c.xEnrichMedianMs, c.nodeMedianMs, c.xEnrichMedianMs / c.nodeMedianMs, '<= 2.5x', c.xEnrichMedianMs / c.nodeMedianMs <= 2.5);
  if (c?.baseline) row('cold start, BENCH_COLD_BASELINE (median ms)', c.baselineMedianMs, c.nodeMedianMs, c.baselineMedianMs / c.nodeMedianMs, 'reported', true);
  if (s) {
    row(`serve cached POST /v1/enrich, ${s.connections} conn (req/s)`, s.xEnrich.requestsPerSecond, s.floor.requestsPerSecond, s.xEnrich.requestsPerSecond / s.floor.requestsPerSecond, '>= 0.5x', s.xEnrich.requestsPerSecond / s.floor.requestsPerSecond >= 0.5);
    row('serve cached p99 (ms)', s.xEnrich.p99Ms, s.floor.p99Ms, s.xEnrich.p99Ms / Math.max(1, s.floor.p99Ms), 'reported', true);
    row('serve cached: server CPU per request (µs)', s.xEnrich.cpuUsPerRequest, s.floor.cpuUsPerRequest, s.xEnrich.cpuUsPerRequest / s.floor.cpuUsPerRequest, 'reported', true);
  }
  if (mcp) {
    row('MCP enrich, 100 cached, stdio (median ms)', mcp.stdio.medianMs, '', undefined, '< 50', mcp.stdio.medianMs < 50);
    row('MCP enrich, 100 cached, HTTP (median ms)', mcp.http.medianMs, '', undefined, '< 50', mcp.http.medianMs < 50);
  }
  console.table(rows);
}

await main();
