// A/B of the misses bench's x-enrich side: 10,000 distinct IPv4 misses, --no-cache, c=64, one vt3
// instance (bulkhead 64), against one simulator; alternates A B B A per round; prints wall ms and
// whole-process CPU µs per lookup for each run, and the medians.
// Usage (from apps/enricher, after a build): node bench/miss-ab.mjs <A cli.js> <B cli.js> [rounds=3]
// PROF_DIR=dir profiles B (--cpu-prof).
import { spawn } from 'node:child_process';
import { writeFile, readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { startSimulator } from '@x/virustotal-simulator';
const [A, B] = process.argv.slice(2, 4).map((p) => resolve(p));
const rounds = Number(process.argv[4] ?? 3);
const HOOK = join(dirname(fileURLToPath(import.meta.url)), 'cpu-usage.mjs');
const work = await mkdtemp(join(tmpdir(), 'miss-ab-'));
const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
const config = join(work, 'x.yaml');
await writeFile(config, `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false, resilience: { bulkhead: { maxConcurrent: 64 } } }\nconcurrency: 64\n`);
let batch = 0;
async function run(cli, prof) {
  batch++;
  // distinct addresses per run, so the simulator generates new objects each time, as in bench/run.js
  const input = join(work, `in-${batch}.txt`);
  await writeFile(input, Array.from({ length: 10000 }, (_, i) => `${20 + batch}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).join('\n') + '\n');
  const cpuFile = join(work, `cpu-${batch}`);
  const t = performance.now();
  const c = spawn(process.execPath, [...(prof && process.env.PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROF_DIR] : []), '--import', HOOK, cli, '--config', config, 'enrich', '--no-cache', '--quiet', '--format', 'jsonl', '--concurrency', '64', '--input', input], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, X_ENRICH_BENCH_CPU_FILE: cpuFile } });
  const code = await new Promise((r) => c.once('exit', r));
  if (code !== 0) throw new Error(`${cli} exited ${code}`);
  return { ms: performance.now() - t, cpuUs: Number(await readFile(cpuFile, 'utf8')) / 10000 };
}
const res = { A: [], B: [] };
await run(A); await run(B); // warm the disk cache / code cache, not counted
for (let r = 0; r < rounds; r++) for (const side of ['A', 'B', 'B', 'A']) {
  const x = await run(side === 'A' ? A : B, side === 'B');
  res[side].push(x);
  console.log(side, Math.round(x.ms), 'ms', x.cpuUs.toFixed(0), 'µs CPU/lookup');
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
for (const side of ['A', 'B']) console.log(`${side}: median ${Math.round(med(res[side].map((x) => x.ms)))} ms, ${med(res[side].map((x) => x.cpuUs)).toFixed(0)} µs CPU/lookup`);
await simulator.close?.();
process.exit(0);
