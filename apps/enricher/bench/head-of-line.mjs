// The head-of-line figure of docs/operations/reliability.md: 500 distinct IPs through the built
// CLI at the default concurrency, against the simulator behind a loopback proxy that makes 1 %
// of the lookups (5) slow. Prints the baseline, the slow run and the bound they are held to:
// the slow run must finish within the baseline plus the slowest single lookup.
//   node bench/head-of-line.mjs            (from apps/enricher, after a build)
//   SLOW_MS=5000 COUNT=500 node bench/head-of-line.mjs
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '@x/virustotal-simulator';
import { startSlowProxy } from './slow-proxy.mjs';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(APP, 'dist', 'cli.js');
const COUNT = Number(process.env.COUNT ?? 500);
const SLOW_MS = Number(process.env.SLOW_MS ?? 3_000);
const ip = (i) => `11.77.${(i >> 8) & 255}.${i & 255}`;
// 1 %: every hundredth IP, from the 38th on.
const slowIps = new Set(Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 100 === 37).map(ip));

function run(args, cwd) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ms: Number(process.hrtime.bigint() - started) / 1e6, stdout, stderr }));
  });
}

async function measure(simulator, dir, slow) {
  const proxy = await startSlowProxy({ target: simulator.v3Url, isSlow: (path) => slow && slowIps.has(path.split('/').pop()), slowMs: SLOW_MS });
  try {
    const config = join(dir, `x-enrich-${slow ? 'slow' : 'base'}.yaml`);
    await writeFile(config, `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${proxy.url}" }, rateLimit: false }\n`);
    const input = join(dir, 'ips.txt');
    await writeFile(input, Array.from({ length: COUNT }, (_, i) => ip(i)).join('\n') + '\n');
    const result = await run(['--config', config, 'enrich', '--no-cache', '--quiet', '--format', 'jsonl', '--input', input], dir);
    const records = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    const inOrder = records.every((record, i) => record.input === ip(i));
    const errors = records.filter((record) => record.status === 'error').length;
    if (result.code !== 0 || records.length !== COUNT || !inOrder || errors) throw new Error(`run failed: exit ${result.code}, ${records.length} records, in order ${inOrder}, ${errors} errors\n${result.stderr}`);
    return Math.round(result.ms);
  } finally {
    await proxy.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'x-enrich-hol-'));
const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
try {
  await measure(simulator, dir, false); // warm-up (the simulator generates and caches bodies)
  const baselineMs = await measure(simulator, dir, false);
  const slowMs = await measure(simulator, dir, true);
  const boundMs = baselineMs + SLOW_MS;
  const result = { inputs: COUNT, slowLookups: slowIps.size, slowestLookupMs: SLOW_MS, baselineMs, slowRunMs: slowMs, boundMs, withinBound: slowMs <= boundMs };
  console.log(JSON.stringify(result, null, 2));
  if (!result.withinBound) process.exitCode = 1;
} finally {
  await simulator.close();
  await rm(dir, { recursive: true, force: true });
}
