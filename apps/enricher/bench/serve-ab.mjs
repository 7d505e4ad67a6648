// A/B of `serve`, cached: two builds' CLIs and the bare fastify floor listen at once, and the load
// (autocannon, 32 connections, one cached observable) alternates A, B, floor, floor, B, A per round,
// so load that comes and goes on a shared machine falls on every side. Prints, per round and side,
// req/s and the server's CPU per request (utime + stime from /proc/<pid>/stat over the requests).
// Usage (from apps/enricher, after a build): node bench/serve-ab.mjs <A cli.js> <B cli.js> [rounds] [seconds]
// AB_PROF=dir profiles B with --cpu-prof (written on exit to dir); AB_WARM_S (2): seconds of load per side first, not counted.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startSimulator } from '@x/virustotal-simulator';

const FLOORS = join(dirname(fileURLToPath(import.meta.url)), 'floors.mjs');
const [cliA, cliB] = process.argv.slice(2, 4).map((path) => resolve(path));
const [roundsArg = '3', secondsArg = '4'] = process.argv.slice(4);
const ROUNDS = Number(roundsArg);
const SECONDS = Number(secondsArg);
const WARM_S = Number(process.env.AB_WARM_S ?? 2);

function listening(argv, cwd) {
  const child = spawn(process.execPath, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.resume();
  return new Promise((resolve, reject) => {
    let seen = '';
    child.on('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code} before listening`)));
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve({ url: match[1], child });
    });
  });
}
const stop = (child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGTERM'))));
async function cpuUs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

const dir = await mkdtemp(join(tmpdir(), 'serve-ab-'));
const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
const config = join(dir, 'x-enrich.yaml');
await writeFile(config, `providers:
  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false }
  vt2: { use: "@x/provider-virustotal-v2", options: { apiKey: bench, apiUrl: "${simulator.v2Url}" }, rateLimit: false }
concurrency: 64
`);
const body = JSON.stringify({ observables: ['8.8.8.8'] });
const prof = process.env.AB_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.AB_PROF] : [];
const sides = {};
try {
  sides.A = await listening([cliA, '--config', config, 'serve', '--port', '0'], dir);
  sides.B = await listening([...prof, cliB, '--config', config, 'serve', '--port', '0'], dir);
  let answer;
  for (const side of [sides.A, sides.B]) {
    const ask = () => fetch(`${side.url}/v1/enrich`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((response) => response.text());
    await ask();
    const text = await ask();
    if (answer !== undefined && text !== answer) console.error('warning: A and B answer different bytes');
    answer = text;
  }
  const bodyFile = join(dir, 'body.json');
  await writeFile(bodyFile, answer);
  sides.floor = await listening([FLOORS, 'fastify', bodyFile], dir);
  // Warm-up, not counted: without it the first round measures each side's JIT warming up.
  for (const name of ['A', 'B', 'floor']) await autocannon({ url: `${sides[name].url}/v1/enrich`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 32, duration: WARM_S });
  const totals = { A: { requests: 0, cpu: 0 }, B: { requests: 0, cpu: 0 }, floor: { requests: 0, cpu: 0 } };
  for (let round = 1; round <= ROUNDS; round++) {
    const line = { A: [], B: [], floor: [] };
    for (const name of ['A', 'B', 'floor', 'floor', 'B', 'A']) {
      const { url, child } = sides[name];
      const before = await cpuUs(child.pid);
      const result = await autocannon({ url: `${url}/v1/enrich`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 32, duration: SECONDS });
      if (result.errors || result.non2xx) throw new Error(`${name}: ${result.errors} errors, ${result.non2xx} non-2xx`);
      const cpu = (await cpuUs(child.pid)) - before;
      line[name].push({ requests: result.requests.total, cpu, p99: result.latency.p99 });
      totals[name].requests += result.requests.total;
      totals[name].cpu += cpu;
    }
    const fig = (name) => {
      const requests = line[name].reduce((t, r) => t + r.requests, 0);
      const cpu = line[name].reduce((t, r) => t + r.cpu, 0);
      return { rps: Math.round(requests / (line[name].length * SECONDS)), us: Math.round(cpu / requests), p99: Math.max(...line[name].map((r) => r.p99)) };
    };
    const a = fig('A'), b = fig('B'), f = fig('floor');
    console.log(`round ${round}: A ${a.rps} req/s ${a.us} µs p99 ${a.p99} | B ${b.rps} req/s ${b.us} µs p99 ${b.p99} | floor ${f.rps} req/s ${f.us} µs p99 ${f.p99} | rps ratio A ${(a.rps / f.rps).toFixed(3)} B ${(b.rps / f.rps).toFixed(3)} | cpu ratio A ${(a.us / f.us).toFixed(2)} B ${(b.us / f.us).toFixed(2)}`);
  }
  const all = (name) => ({ rps: Math.round(totals[name].requests / (ROUNDS * 2 * SECONDS)), us: Math.round(totals[name].cpu / totals[name].requests) });
  const a = all('A'), b = all('B'), f = all('floor');
  console.log(`total: A ${a.rps} req/s ${a.us} µs | B ${b.rps} req/s ${b.us} µs | floor ${f.rps} req/s ${f.us} µs | rps ratio A ${(a.rps / f.rps).toFixed(3)} B ${(b.rps / f.rps).toFixed(3)} | cpu ratio A ${(a.us / f.us).toFixed(2)} B ${(b.us / f.us).toFixed(2)}`);
} finally {
  for (const side of Object.values(sides)) await stop(side.child);
  await simulator.close?.();
}
process.exit(0);
