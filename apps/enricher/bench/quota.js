// `pnpm bench` (apps/enricher): quota-bound runs of the real CLI at EXACTLY the upstream's
// published quota (no margin), against the VirusTotal simulator counting arrivals in sliding
// windows and in fixed clock-aligned ones. Scenarios per mode:
//   1 process           one `x-enrich enrich` run (file rate-limit store, the CLI default);
//   2 runs back to back two runs, the second started as the first exits (one budget on file);
//   3 processes Redis   three runs at once sharing `rateLimitStore: redis`.
// Figures: requests refused (goal 0); actual / ideal time, both from the simulator's arrival
// times of the first and last request (goal <= 1.05 for one process, <= 1.10 for the fleet);
// estimate error: the CLI's own up-front estimate (core's estimateBatchMs over the budget it
// reads from its store, counting the demand the other processes sharing it have published;
// logged at debug level with the time it was made) against the time from that moment to the
// process's exit (what the user then waits). ETA error: the ETA the progress bar shows, as the
// CLI logs it every second at debug level (`progress` lines: done, total, etaMs), taken at the
// first line past 25, 50 and 75 % of the lookups, against the time from that line to the exit.
// Ideal: the quota's full rate from a fresh budget, (ceil(N / requests) - 1) x window: the
// earliest the last request can arrive. Env: X_ENRICH_BENCH_QUOTA (8), X_ENRICH_BENCH_QUOTA_WINDOW_MS
// (10000: real quotas are per minute; start-up and exit, fixed costs, weigh less), X_ENRICH_BENCH_LOOKUPS (40 per scenario), X_ENRICH_BENCH_QUOTA_MODES (sliding,fixed), X_ENRICH_BENCH_REDIS_URL.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { estimateBatchMs } from '@x/core';
import { startSimulator } from '@x/virustotal-simulator';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(APP, 'dist', 'cli.js');
const env = process.env;
const QUOTA = { requests: Number(env.X_ENRICH_BENCH_QUOTA ?? 8), perMs: Number(env.X_ENRICH_BENCH_QUOTA_WINDOW_MS ?? 10_000) };
const LOOKUPS = Number(env.X_ENRICH_BENCH_LOOKUPS ?? 40);
const REDIS_URL = env.X_ENRICH_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEY = 'bench-quota-key';

function cli(args) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ended = Date.now();
      if (code !== 0) return reject(new Error(`x-enrich exited ${code}: ${stderr.slice(-1500)}`));
      if (env.X_ENRICH_BENCH_QUOTA_TRACE) console.error(stderr.split('\n').filter((l) => l.includes('"msg":"progress"') || l.includes('up-front')).map((l) => { const j = JSON.parse(l); return `${child.pid} ${j.time} ${j.msg} done=${j.done} eta=${j.etaMs ?? j.estimateMs} others=${j.others}`; }).join('\n'));
      const lines = stderr.split('\n');
      const line = lines.find((l) => l.includes('"up-front estimate"'));
      if (!line) return reject(new Error(`no up-front estimate logged: ${stderr.slice(-1500)}`));
      const logged = JSON.parse(line);
      const progress = lines.filter((l) => l.includes('"msg":"progress"')).map((l) => JSON.parse(l));
      // The ETA shown at 25, 50 and 75 % of the run, against what was then left of it.
      const etas = [0.25, 0.5, 0.75].map((share) => {
        const at = progress.find((p) => p.total > 0 && p.done >= share * p.total && p.etaMs !== undefined);
        return at ? { share, others: at.others ?? 0, ...withError({ estimateMs: at.etaMs, actualMs: ended - at.time }) } : { share, missing: true };
      });
      resolve({ ms: ended - started, ended, loggedAt: logged.time, others: logged.others ?? 0, estimate: { estimateMs: logged.estimateMs, actualMs: ended - logged.time }, etas });
    });
  });
}

let next = 0;
const ips = (count) => Array.from({ length: count }, () => {
  const i = next++;
  return `11.77.${(i >> 8) & 255}.${i & 255}`;
});
const ideal = (n) => (Math.ceil(n / QUOTA.requests) - 1) * QUOTA.perMs;

async function scenario(mode, name, dir, run) {
  const simulator = await startSimulator({ port: 0, apiKeys: [KEY], quotas: [QUOTA], quotaMode: mode });
  try {
    const configFor = async (store) => {
      const file = join(dir, `${name.replace(/\W+/g, '-')}-${mode}-${store}.yaml`);
      const shared = store === 'redis' ? `rateLimitStore: { store: redis, url: "${REDIS_URL}", keyPrefix: "x-enrich-bench-quota:${randomBytes(4).toString('hex')}:", onUnavailable: refuse }\n` : '';
      await writeFile(file, `providers:\n  vt3:\n    use: "@x/provider-virustotal-v3"\n    options: { apiKey: ${KEY}, baseUrl: "${simulator.v3Url}" }\n    rateLimit: [{ requests: ${QUOTA.requests}, per: ${QUOTA.perMs}ms }]\n${shared}`);
      return file;
    };
    const result = await run({ configFor, enrich: (config, cacheDir, observables) => cli(['--config', config, '--log-level', 'debug', 'enrich', '--cache-dir', cacheDir, '--format', 'jsonl', ...observables]) });
    const stats = simulator.stats();
    const actual = stats.lastRequestAt - stats.firstRequestAt;
    return {
      mode,
      scenario: name,
      lookups: result.lookups,
      requests: stats.total,
      refused: (stats.byStatus['429'] ?? 0) + (stats.byStatus['204'] ?? 0),
      actualMs: actual,
      idealMs: ideal(result.lookups),
      ratio: actual / ideal(result.lookups),
      estimates: result.estimates,
      etas: result.etas,
    };
  } finally {
    await simulator.close();
  }
}

const withError = ({ estimateMs, actualMs }) => ({ estimateMs, actualMs, error: (estimateMs - actualMs) / actualMs });

/** The Redis scenario needs a server; without one it is skipped with a note. */
function redisReachable() {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(1_000, () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.once('connect', () => (socket.end(), resolve(true)));
  });
}

async function main() {
  const withRedis = await redisReachable();
  if (!withRedis) console.error(`bench/quota: no Redis at ${REDIS_URL}; the 3-process Redis scenario is skipped.`);
  const dir = await mkdtemp(join(tmpdir(), 'x-enrich-bench-quota-'));
  const rows = [];
  try {
    for (const mode of (env.X_ENRICH_BENCH_QUOTA_MODES ?? 'sliding,fixed').split(',')) {
      if (!env.X_ENRICH_BENCH_QUOTA_FLEET_ONLY) rows.push(
        await scenario(mode, '1 process', dir, async ({ configFor, enrich }) => {
          const config = await configFor('file');
          const cacheDir = join(dir, `one-${mode}`);
          const { estimate, etas } = await enrich(config, cacheDir, ips(LOOKUPS));
          return { lookups: LOOKUPS, estimates: [withError(estimate)], etas: [etas] };
        }),
      );
      if (!env.X_ENRICH_BENCH_QUOTA_FLEET_ONLY) rows.push(
        await scenario(mode, '2 runs back to back', dir, async ({ configFor, enrich }) => {
          const config = await configFor('file');
          const cacheDir = join(dir, `two-${mode}`);
          const estimates = [];
          const etas = [];
          for (let run = 0; run < 2; run++) {
            const result = await enrich(config, cacheDir, ips(LOOKUPS));
            estimates.push(withError(result.estimate));
            etas.push(result.etas);
          }
          return { lookups: 2 * LOOKUPS, estimates, etas };
        }),
      );
      if (withRedis) rows.push(
        await scenario(mode, '3 processes, Redis', dir, async ({ configFor, enrich }) => {
          const config = await configFor('redis');
          const per = Math.ceil(LOOKUPS / 3);
          const runs = await Promise.all([0, 1, 2].map((i) => enrich(config, join(dir, `fleet-${mode}-${i}`), ips(per))));
          // Each process counts the demand the others published in Redis. One that saw none yet
          // ('alone': it says so, "with the budget to itself") errs short; its ETA corrects
          // within a second. 'saw N': it counted N others' demand.
          // 'fleet': what a host that knows the fleet's whole batch gets from core's estimateBatchMs.
          const fleet = {
            estimateMs: estimateBatchMs({ lookups: 3 * per, windows: [{ ...QUOTA, remaining: QUOTA.requests }] }),
            actualMs: Math.max(...runs.map((r) => r.ended)) - Math.min(...runs.map((r) => r.loggedAt)),
          };
          return { lookups: 3 * per, estimates: [{ ...withError(fleet), label: 'fleet' }, ...runs.map((r) => ({ ...withError(r.estimate), label: r.others > 0 ? `process (saw ${r.others})` : 'process (alone)' }))], etas: runs.map((r) => r.etas) };
        }),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ quota: QUOTA, lookups: LOOKUPS, rows }, null, 2));
  const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
  console.log(`\nQuota-bound runs at exactly ${QUOTA.requests} per ${QUOTA.perMs / 1000}s (the upstream's quota), real x-enrich processes`);
  console.log('| Simulator windows | Scenario | Lookups | Requests | Refused | Actual / ideal (s) | Ratio | Up-front estimate error per run (estimate / actual s) | ETA error at 25 / 50 / 75 % per run |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) {
    const errors = row.estimates.map((e) => `${e.label ? `${e.label} ` : ''}${pct(e.error)} (${(e.estimateMs / 1000).toFixed(1)} / ${(e.actualMs / 1000).toFixed(1)} s)`).join('; ');
    // In a fleet, a reading made before the others had published their demand (the process was
    // alone, as far as anyone could know: they had not started yet) is marked 'alone'.
    const fleet = row.scenario.includes('processes');
    const etas = row.etas.map((run) => run.map((e) => (e.missing ? 'n/a' : `${pct(e.error)}${fleet && e.others === 0 ? ' (alone)' : ''}`)).join(' / ')).join('; ');
    console.log(`| ${row.mode} | ${row.scenario} | ${row.lookups} | ${row.requests} | ${row.refused} | ${(row.actualMs / 1000).toFixed(2)} / ${(row.idealMs / 1000).toFixed(2)} | ${row.ratio.toFixed(3)} | ${errors} | ${etas} |`);
  }
  const all = rows.flatMap((row) => row.etas.flat()).filter((e) => !e.missing);
  const worst = all.reduce((max, e) => Math.max(max, Math.abs(e.error)), 0);
  const within = all.filter((e) => Math.abs(e.error) <= 0.1).length;
  console.log(`\nWorst ETA error over ${all.length} readings: ${pct(worst)}; ${within} of ${all.length} within 10 % (goal within 10 %).`);
}

await main();
