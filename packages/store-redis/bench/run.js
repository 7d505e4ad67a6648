// `pnpm bench`: figures for issue 7, from real processes sharing one Redis.
//  1. quota: N processes enrich overlapping sets against an upstream with a per-key quota;
//     counts 429s, upstream calls vs distinct observables, and the upstream rate achieved.
//  2. cached: 1..4 processes look up cached observables; aggregate lookups per second.
// Needs Redis (X_ENRICH_BENCH_REDIS_URL, default redis://127.0.0.1:6379) and a build (`pnpm build`).
// Prints one JSON document, then a table.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { observables, runFleet, shuffled } from './fleet/fleet.js';
import { startQuotaUpstream } from './fleet/quota-upstream.js';

const redisUrl = process.env.X_ENRICH_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `x-enrich-bench:${randomBytes(4).toString('hex')}:`;
const pluginModule = fileURLToPath(new URL('./fleet/quota-provider.js', import.meta.url));
const quota = { requests: 50, perMs: 1_000 };
const limiterWindowMs = Number(process.env.X_ENRICH_BENCH_LIMITER_WINDOW_MS ?? 1_100); // the upstream counts arrivals: the extra 100 ms absorbs charge-to-arrival latency
const distinctCount = 300;
const quotaProcesses = Number(process.env.X_ENRICH_BENCH_PROCESSES ?? 3);

const upstream = await startQuotaUpstream({ quota });
const worker = {
  redisUrl,
  keyPrefix: prefix,
  instanceName: 'vt',
  pluginModule,
  providerOptions: { baseUrl: upstream.url, apiKey: 'bench-key' },
  rateLimit: [{ requests: quota.requests, per: limiterWindowMs }],
};
const distinct = observables(distinctCount);
// Process i skips one slice of the set, so every observable is wanted by several processes at once.
const overlapping = (processes) => (i) => shuffled(distinct.filter((_, n) => n % processes !== i), i + 1);

try {
  // 1. Quota.
  const quotaRun = await runFleet({ processes: quotaProcesses, observablesFor: overlapping(quotaProcesses), worker: { ...worker, concurrency: 32 }, timeoutMs: 300_000 });
  const served = upstream.stats();
  const arrivals = served.timeline.sort((a, b) => a - b);
  const spanMs = (arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0);
  // The first window's budget is spent at once; the rate is what came after it, over the time it took.
  const achievedPerSecond = spanMs > 0 ? ((served.served - quota.requests) / spanMs) * 1000 : 0;
  const quotaFigures = {
    processes: quotaProcesses,
    lookups: quotaRun.results.reduce((sum, r) => sum + r.lookups, 0),
    distinctObservables: distinctCount,
    upstreamCalls: served.total,
    refused429: served.refused,
    duplicateUpstreamCalls: served.duplicates,
    errorRecords: quotaRun.results.reduce((sum, r) => sum + Object.entries(r.statuses).filter(([k]) => k === 'error').reduce((s, [, v]) => s + v, 0), 0),
    wallSeconds: +(quotaRun.wallMs / 1000).toFixed(2),
    quotaPerSecond: (quota.requests / quota.perMs) * 1000,
    limiterPerSecond: +((quota.requests / limiterWindowMs) * 1000).toFixed(1),
    achievedUpstreamPerSecond: +achievedPerSecond.toFixed(1),
    efficiencyVsLimiter: +(achievedPerSecond / ((quota.requests / limiterWindowMs) * 1000)).toFixed(3),
  };

  // 2. Cached lookups (the cache is warm from phase 1).
  const cached = [];
  for (const processes of [1, 2, 3, 4]) {
    if (process.env.X_ENRICH_BENCH_SKIP_CACHED) break;
    const run = await runFleet({ processes, observablesFor: () => distinct, worker: { ...worker, concurrency: 64, rounds: 20 }, timeoutMs: 300_000 });
    const lookups = run.results.reduce((sum, r) => sum + r.lookups, 0);
    const hits = run.results.reduce((sum, r) => sum + r.stats.cacheHits, 0);
    cached.push({ processes, lookups, cacheHits: hits, upstreamCalls: run.results.reduce((s, r) => s + r.stats.upstreamCalls, 0), wallSeconds: +(run.wallMs / 1000).toFixed(2), lookupsPerSecond: Math.round(lookups / (run.wallMs / 1000)) });
  }

  const report = { bench: '@x/store-redis fleet', node: process.version, cpus: cpus().length, redis: redisUrl.replace(/\/\/[^@]*@/, '//***@'), quota: quotaFigures, cached };
  console.log(JSON.stringify(report, null, 2));
  console.log('\nQuota phase (shared limiter, cache and coalescing)');
  console.table([quotaFigures]);
  console.log('Cached lookups (one Redis GET each), by number of processes');
  console.table(cached);
} finally {
  await upstream.close();
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
