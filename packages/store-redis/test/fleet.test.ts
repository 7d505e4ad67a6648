import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observables, runFleet, shuffled } from '../bench/fleet/fleet.js';
import { startQuotaUpstream, type QuotaUpstream } from '../bench/fleet/quota-upstream.js';
import { deleteKeys, randomPrefix, SHARED_REDIS_URL, sharedRedisAvailable } from './helpers/redis.js';

const available = await sharedRedisAvailable();
const packageDir = fileURLToPath(new URL('..', import.meta.url));

// Three real processes (core's engine + a provider + these stores, from the built dist) enrich
// overlapping sets against an upstream with a per-key quota, sharing one Redis.
describe.skipIf(!available)('a fleet of processes sharing Redis', () => {
  const quota = { requests: 20, perMs: 1_000 };
  let upstream: QuotaUpstream;
  let prefix: string;

  beforeAll(async () => {
    // The workers run the built package (node cannot load TypeScript): build it fresh.
    execFileSync(process.execPath, [fileURLToPath(import.meta.resolve('typescript/bin/tsc')), '-p', 'tsconfig.build.json'], { cwd: packageDir, stdio: 'inherit' });
    upstream = await startQuotaUpstream({ quota });
    prefix = randomPrefix();
  }, 60_000);
  afterAll(async () => {
    await upstream?.close();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  it('spends the quota once: zero 429s, one upstream call per distinct observable, every record ok', async () => {
    const distinct = observables(60);
    // Process i skips a third of the set: every observable is asked for by two processes at once.
    const observablesFor = (i: number) => shuffled(distinct.filter((_, n) => Math.floor(n / 20) !== i), i + 1);
    const { results } = await runFleet({
      processes: 3,
      observablesFor,
      worker: {
        redisUrl: SHARED_REDIS_URL,
        keyPrefix: prefix,
        instanceName: 'vt',
        pluginModule: fileURLToPath(new URL('../bench/fleet/quota-provider.js', import.meta.url)),
        providerOptions: { baseUrl: upstream.url, apiKey: 'fleet-key' },
        // The upstream counts fixed 1 s windows from arrival; a 1.1 s sliding window absorbs
        // the time between charging the budget and the request arriving (docs/operations/scaling.md).
        rateLimit: [{ requests: quota.requests, per: 1_100 }],
        concurrency: 16,
      },
      timeoutMs: 60_000,
    });

    const served = upstream.stats();
    expect(served.refused).toBe(0);
    expect(served.served).toBe(60);
    expect(served.distinct).toBe(60);
    expect(served.duplicates).toBe(0);
    expect(results.reduce((sum, r) => sum + r.stats.upstreamCalls, 0)).toBe(60);
    for (const result of results) {
      expect(result.statuses).toEqual({ ok: 40 });
      expect(result.storeStatus).toBe('ready');
    }
  }, 90_000);
});
