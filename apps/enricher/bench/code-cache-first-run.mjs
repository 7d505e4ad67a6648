// Does a start depend on what the FIRST run of a build did? (docs/performance.md, "Cold start: the
// V8 code cache"; issue 16 goal 3.) The first run without a usable code cache writes one, so a
// cache can come from a one-lookup run (what the cold-start bench does), from a large run, or from
// `serve` after hours of traffic. This makes each in its own XDG_CACHE_HOME, then times starts
// from each, in turn, per round:
//
// - `lookup`: a cached `enrich --format jsonl 8.8.8.8` with a code cache made by (a) one such
//   lookup, (b) a --no-cache run of MISSES distinct misses (c=64) against the simulator;
// - `serve`: a `serve` start to its first cached answer, then SIGTERM, with a code cache made by
//   (a) such a short serve, (c) a serve under LOAD_S seconds of autocannon load, then SIGTERM;
// - `node -e 0`.
//
//   node bench/code-cache-first-run.mjs [rounds=15] [name=path/to/dist/cli.js ...]   (MISSES=10000 LOAD_S=10)
//
// Each name=path is another build that MAKES a set of caches (e.g. main's, to compare how each
// writes them); the starts are always this build's dist/cli.js, so the builds must share the
// script (dist/cli-script.cjs, the cache key): only the loader may differ. By default, this build only.
// CPU is user + system of the child's whole life (getrusage of a python3 parent, exit handlers
// included, as bench/child-rusage.mjs), wall from that parent; the code cache files' sizes too.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startSimulator } from '@x/virustotal-simulator';
import { measureNode, runChild } from './child-rusage.mjs';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.argv[2] ?? 15);
const CLI = join(APP, 'dist', 'cli.js');
const makers = [['this', CLI], ...process.argv.slice(3).map((arg) => arg.split('=')).map(([name, path]) => [name, resolve(path)])];
const MISSES = Number(process.env.MISSES ?? 10_000);
const LOAD_S = Number(process.env.LOAD_S ?? 10);

/** A python3 parent that forwards SIGTERM to its child and writes the child's CPU and wall ms at its end. */
const RUSAGE_SIGNAL = [
  'import os, resource, signal, subprocess, sys, time',
  'start = time.monotonic()',
  'p = subprocess.Popen(sys.argv[1:])',
  'signal.signal(signal.SIGTERM, lambda *a: p.send_signal(signal.SIGTERM))',
  'code = p.wait()',
  'wall = time.monotonic() - start',
  'r = resource.getrusage(resource.RUSAGE_CHILDREN)',
  'open(os.environ["CPU_FILE"], "w").write(f"{(r.ru_utime + r.ru_stime) * 1000} {wall * 1000}")',
  'sys.exit(code)',
].join('\n');

const dir = await mkdtemp(join(tmpdir(), 'x-enrich-code-cache-first-run-'));
const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
const body = JSON.stringify({ observables: ['8.8.8.8'] });

/**
 * Starts `serve` (under the python3 parent when `cpuFile` is given), waits for its first cached
 * answer, runs `load` if any, then SIGTERM; resolves when it has exited.
 */
async function serveOnce(xdg, { cpuFile, load, warm = false, cli = CLI } = {}) {
  const argv = [cli, '--config', config, 'serve', '--port', '0', '--cache-dir', join(dir, 'cache-serve')];
  const env = { ...process.env, XDG_CACHE_HOME: xdg, CPU_FILE: cpuFile ?? '' };
  const child = cpuFile ? spawn('python3', ['-c', RUSAGE_SIGNAL, process.execPath, ...argv], { cwd: dir, env, stdio: ['ignore', 'pipe', 'ignore'] }) : spawn(process.execPath, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise((done) => child.once('exit', done));
  const url = await new Promise((done, fail) => {
    let seen = '';
    child.once('exit', (code) => fail(new Error(`serve exited ${code} before listening`)));
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) done(match[1]);
    });
  });
  const answer = await (await fetch(`${url}/v1/enrich`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json();
  if (!warm && !answer.records?.every((record) => record.cache?.hit)) throw new Error('serve: the lookup was not cached');
  if (load) {
    const result = await autocannon({ url: `${url}/v1/enrich`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 32, duration: load });
    if (result.errors || result.non2xx) throw new Error(`serve load: ${result.errors} errors, ${result.non2xx} non-2xx`);
  }
  child.kill('SIGTERM');
  await exited;
  if (cpuFile) {
    const [cpuMs, wallMs] = (await readFile(cpuFile, 'utf8')).split(' ').map(Number);
    return { cpuMs, wallMs };
  }
  return undefined;
}

async function codeCacheFiles(xdg) {
  const folder = join(xdg, 'x-enrich', 'code-cache');
  const names = (await readdir(folder).catch(() => [])).filter((name) => name.endsWith('.v8cache'));
  return Promise.all(names.map(async (name) => `${name.split('-')[1]} ${((await stat(join(folder, name))).size / 1e6).toFixed(3)} MB`));
}

let config;
try {
  config = join(dir, 'x-enrich.yaml');
  await writeFile(
    config,
    `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false, resilience: { bulkhead: { maxConcurrent: 64 } } }\nconcurrency: 64\n`,
  );
  const lookup = ['--config', config, 'enrich', '--cache-dir', join(dir, 'cache-lookup'), '--quiet', '--format', 'jsonl', '8.8.8.8'];
  const off = { X_ENRICH_CODE_CACHE: 'off' };
  // The lookup cached (file cache) without writing any code cache.
  await runChild(process.execPath, [CLI, ...lookup], { env: off, cwd: dir });
  await serveOnce(join(dir, 'xdg-none'), { warm: true });
  await rm(join(dir, 'xdg-none'), { recursive: true, force: true });

  const xdg = (name) => join(dir, `xdg-${name}`);
  const input = join(dir, 'misses.txt');
  await writeFile(input, Array.from({ length: MISSES }, (_, i) => `30.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).join('\n') + '\n');
  const lookups = [];
  const serves = [];
  for (const [maker, cli] of makers) {
    // (a) one cached lookup; (b) a large --no-cache misses run; (serve-a) a short serve; (c) serve under load.
    let t = performance.now();
    await runChild(process.execPath, [cli, ...lookup], { env: { XDG_CACHE_HOME: xdg(`${maker}-lookup-a`) }, cwd: dir });
    console.log(`${maker}: made (a) by one lookup: ${Math.round(performance.now() - t)} ms`);
    t = performance.now();
    await runChild(process.execPath, [cli, '--config', config, 'enrich', '--no-cache', '--quiet', '--format', 'jsonl', '--concurrency', '64', '--input', input], { env: { XDG_CACHE_HOME: xdg(`${maker}-lookup-b`) }, cwd: dir });
    console.log(`${maker}: made (b) by ${MISSES} misses: ${Math.round(performance.now() - t)} ms`);
    t = performance.now();
    await serveOnce(xdg(`${maker}-serve-a`), { cli });
    console.log(`${maker}: made (serve-a) by a short serve: ${Math.round(performance.now() - t)} ms`);
    t = performance.now();
    await serveOnce(xdg(`${maker}-serve-c`), { load: LOAD_S, cli });
    console.log(`${maker}: made (c) by serve under ${LOAD_S} s of load: ${Math.round(performance.now() - t)} ms`);
    lookups.push(`${maker}-lookup-a`, `${maker}-lookup-b`);
    serves.push(`${maker}-serve-a`, `${maker}-serve-c`);
  }
  const names = [...lookups, ...serves];
  for (const name of names) console.log(name, (await codeCacheFiles(xdg(name))).join(', '));

  const runs = new Map([...names, 'node -e 0'].map((name) => [name, []]));
  const cpuFile = join(dir, 'cpu-serve');
  for (let round = 0; round < rounds; round += 1) {
    // Reversed every other round, so a load that comes and goes falls on all alike.
    const order = (list) => (round % 2 === 0 ? list : [...list].reverse());
    for (const name of order(lookups)) runs.get(name).push(await measureNode([CLI, ...lookup], { env: { XDG_CACHE_HOME: xdg(name) }, dir }));
    for (const name of order(serves)) runs.get(name).push(await serveOnce(xdg(name), { cpuFile }));
    runs.get('node -e 0').push(await measureNode(['-e', '0'], { env: {}, dir }));
  }
  // The starts must not have rewritten the caches (a hit writes nothing).
  for (const name of names) console.log(name, 'after:', (await codeCacheFiles(xdg(name))).join(', '));
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.table(
    [...runs].map(([name, list]) => ({
      start: name,
      'cpu median ms': Number(median(list.map((run) => run.cpuMs)).toFixed(1)),
      'wall median ms': Number(median(list.map((run) => run.wallMs)).toFixed(1)),
    })),
  );
  console.log(JSON.stringify(Object.fromEntries([...runs].map(([name, list]) => [name, list.map((run) => `${Math.round(run.cpuMs)}/${Math.round(run.wallMs)}`)]))));
} finally {
  await simulator.close();
  await rm(dir, { recursive: true, force: true });
}
