// `pnpm bench`: figures for issue 7, from real processes sharing one Redis. Each process runs
// core's engine with @x/provider-virustotal-v3 and these stores (bench/fleet/worker.js).
//  1. quota: N processes enrich overlapping sets against the VirusTotal simulator with a
//     per-key quota: 429/204 refusals, upstream calls vs distinct observables, upstream rate.
//  2. cached: 1..4 processes look up cached observables; aggregate lookups per second.
//  3. cli: the same as 1 with three real `x-enrich enrich` processes (apps/enricher, if built).
// Needs Redis (X_ENRICH_BENCH_REDIS_URL, default redis://127.0.0.1:6379) and built packages
// (`pnpm build`; turbo builds them first for `pnpm bench`). Prints JSON, then tables.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startSimulator } from '@x/virustotal-simulator';
import { observables, runCliFleet, runFleet, shuffled } from './fleet/fleet.js';

const env = process.env;
const redisUrl = env.X_ENRICH_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `x-enrich-bench:${randomBytes(4).toString('hex')}:`;
const quota = { requests: Number(env.X_ENRICH_BENCH_QUOTA ?? 100), perMs: Number(env.X_ENRICH_BENCH_QUOTA_WINDOW_MS ?? 5_000) };
// The limiter is configured at exactly the quota: charges count from their answers (Redis's
// clock), so no margin is needed (docs/operations/scaling.md).
const limiterWindowMs = Number(env.X_ENRICH_BENCH_LIMITER_WINDOW_MS ?? quota.perMs);
const distinctCount = Number(env.X_ENRICH_BENCH_DISTINCT ?? 300);
const quotaProcesses = Number(env.X_ENRICH_BENCH_PROCESSES ?? 3);
const cachedProcesses = env.X_ENRICH_BENCH_SKIP_CACHED ? [] : [1, 2, 3, 4];

const simulator = await startSimulator({ port: 0, apiKeys: ['bench-key'], quotas: [quota] });
const worker = {
  redisUrl,
  keyPrefix: prefix,
  instanceName: 'vt3',
  pluginModule: '@x/provider-virustotal-v3',
  providerOptions: { baseUrl: simulator.v3Url, apiKey: 'bench-key' },
  rateLimit: [{ requests: quota.requests, per: limiterWindowMs }],
};
const distinct = observables(distinctCount);
// Process i skips every N-th observable, so every observable is wanted by N-1 processes at once.
const overlapping = (processes) => (i) => shuffled(processes === 1 ? distinct : distinct.filter((_, n) => n % processes !== i), i + 1);
const sum = (items, pick) => items.reduce((total, item) => total + pick(item), 0);

try {
  // 1. Quota.
  const run = await runFleet({ processes: quotaProcesses, observablesFor: overlapping(quotaProcesses), worker: { ...worker, concurrency: 32 }, timeoutMs: 600_000 });
  const served = simulator.stats();
  const limiterPerSecond = (quota.requests / limiterWindowMs) * 1000;
  // The first window's budget is spent at once; the sustained rate is what came after it.
  const achieved = ((served.total - quota.requests) / run.wallMs) * 1000;
  const quotaFigures = {
    processes: quotaProcesses,
    lookups: sum(run.results, (r) => r.lookups),
    distinct: distinctCount,
    upstreamCalls: served.total,
    refused429: served.byStatus['429'] ?? 0,
    refused204: served.byStatus['204'] ?? 0,
    errorRecords: sum(run.results, (r) => r.statuses.error ?? 0),
    cacheHits: sum(run.results, (r) => r.stats.cacheHits),
    wallSeconds: +(run.wallMs / 1000).toFixed(2),
    quotaPerSecond: (quota.requests / quota.perMs) * 1000,
    limiterPerSecond: +limiterPerSecond.toFixed(1),
    achievedPerSecond: +achieved.toFixed(1),
    ofLimiter: +(achieved / limiterPerSecond).toFixed(3),
  };

  // 2. Cached lookups (the cache is warm from phase 1): every process asks for every observable, 40 times.
  const cached = [];
  // Redis's own CPU time over each run: how far the shared server is from being the bottleneck.
  const inspector = new Redis(redisUrl);
  const redisCpuSeconds = async () => {
    const info = await inspector.info('cpu');
    const field = (name) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
    return field('used_cpu_user') + field('used_cpu_sys');
  };
  for (const processes of cachedProcesses) {
    const cpuBefore = await redisCpuSeconds();
    const cachedRun = await runFleet({ processes, observablesFor: () => distinct, worker: { ...worker, concurrency: 64, rounds: Number(env.X_ENRICH_BENCH_ROUNDS ?? 40) }, timeoutMs: 600_000 });
    const lookups = sum(cachedRun.results, (r) => r.lookups);
    cached.push({
      processes,
      lookups,
      cacheHits: sum(cachedRun.results, (r) => r.stats.cacheHits),
      upstreamCalls: sum(cachedRun.results, (r) => r.stats.upstreamCalls),
      wallSeconds: +(cachedRun.wallMs / 1000).toFixed(2),
      lookupsPerSecond: Math.round(lookups / (cachedRun.wallMs / 1000)),
      redisCpuPercent: Math.round((((await redisCpuSeconds()) - cpuBefore) / (cachedRun.wallMs / 1000)) * 100),
    });
  }
  inspector.disconnect();

  // 3. The real CLI, with a fresh simulator (so its quota log is empty), prefix and observables.
  const cliPath = fileURLToPath(new URL('../../../apps/enricher/dist/cli.js', import.meta.url));
  let cli = { skipped: env.X_ENRICH_BENCH_SKIP_CLI ? 'X_ENRICH_BENCH_SKIP_CLI is set' : 'apps/enricher is not built (pnpm --filter @x/enricher build)' };
  if (existsSync(cliPath) && !env.X_ENRICH_BENCH_SKIP_CLI) {
    const cliSimulator = await startSimulator({ port: 0, apiKeys: ['bench-key'], quotas: [quota] });
    const dir = mkdtempSync(join(tmpdir(), 'x-enrich-bench-'));
    try {
      const cliDistinct = observables(distinctCount, 1);
      const config = [
        'providers:',
        '  vt3:',
        '    use: "@x/provider-virustotal-v3"',
        `    options: { apiKey: bench-key, baseUrl: "${cliSimulator.v3Url}" }`,
        `    rateLimit: [{ requests: ${quota.requests}, per: ${limiterWindowMs}ms }]`,
        `cache: { store: redis, url: "${redisUrl}", keyPrefix: "${prefix}cli:" }`,
        `rateLimitStore: { store: redis, url: "${redisUrl}", keyPrefix: "${prefix}cli:" }`,
        '',
      ].join('\n');
      const cliRun = await runCliFleet({
        cli: cliPath,
        config,
        dir,
        processes: quotaProcesses,
        observablesFor: (i) => shuffled(quotaProcesses === 1 ? cliDistinct : cliDistinct.filter((_, n) => n % quotaProcesses !== i), i + 1),
        timeoutMs: 600_000,
      });
      const cliServed = cliSimulator.stats();
      cli = {
        processes: quotaProcesses,
        exitCodes: cliRun.results.map((r) => r.code).join(','),
        records: sum(cliRun.results, (r) => r.records),
        distinct: distinctCount,
        upstreamCalls: cliServed.total,
        refused429: cliServed.byStatus['429'] ?? 0,
        refused204: cliServed.byStatus['204'] ?? 0,
        errorRecords: sum(cliRun.results, (r) => r.statuses.error ?? 0),
        wallSeconds: +(cliRun.wallMs / 1000).toFixed(2),
        achievedPerSecond: +(((cliServed.total - quota.requests) / cliRun.wallMs) * 1000).toFixed(1),
      };
      const failed = cliRun.results.filter((r) => r.code !== 0).map((r) => r.summary);
      if (failed.length > 0) cli.failures = failed.join(' | ');
    } finally {
      await cliSimulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const report = { bench: '@x/store-redis fleet', node: process.version, cpus: cpus().length, quota: quotaFigures, cached, cli };
  console.log(JSON.stringify(report, null, 2));
  console.log('\nQuota: processes sharing the limiter, cache and coalescing (VirusTotal simulator, per-key quota)');
  console.table([quotaFigures]);
  console.log('Cached lookups (one Redis GET each) by number of processes');
  console.table(cached);
  console.log('The same with the real x-enrich CLI (enrich --format jsonl), one process per input file');
  console.table([cli]);
} finally {
  await simulator.close();
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
