import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observables, runFleet, shuffled } from '../bench/fleet/fleet.js';
import { startSimulator, type Simulator } from '@x/virustotal-simulator';
import { deleteKeys, randomPrefix, SHARED_REDIS_URL, sharedRedisAvailable } from './helpers/redis.js';

const available = await sharedRedisAvailable();
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Whether any source file is newer than the oldest built file (or nothing is built). */
function distIsStale(): boolean {
  const mtimes = (dir: string) =>
    existsSync(join(packageDir, dir)) ? readdirSync(join(packageDir, dir), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => statSync(join(entry.parentPath, entry.name)).mtimeMs) : [];
  const built = mtimes('dist');
  return built.length === 0 || Math.max(...mtimes('src')) > Math.min(...built);
}

// Three real processes (core's engine + @x/provider-virustotal-v3 + these stores, from the built
// dist) enrich overlapping sets against the VirusTotal simulator with a per-key quota, sharing one Redis.
describe.skipIf(!available).each(['sliding', 'fixed'] as const)('a fleet of processes sharing Redis (simulator counting %s windows)', (quotaMode) => {
  const quota = { requests: 20, perMs: 2_000 };
  let simulator: Simulator;
  let prefix: string;

  beforeAll(async () => {
    // The workers run the built package (node cannot load TypeScript). Under `pnpm test`, turbo
    // built it just before (test dependsOn build); run directly (vitest in this package) after an
    // edit, dist is older than src: build it fresh then. A compile on a loaded 2-CPU machine took
    // more than the old 60 s hook limit, so the limit is generous: it catches a hang, times nothing.
    if (distIsStale()) execFileSync(process.execPath, [fileURLToPath(import.meta.resolve('typescript/bin/tsc')), '-p', 'tsconfig.build.json'], { cwd: packageDir, stdio: 'inherit' });
    simulator = await startSimulator({ port: 0, apiKeys: ['fleet-key'], quotas: [quota], quotaMode });
    prefix = randomPrefix();
  }, 600_000);
  afterAll(async () => {
    await simulator?.close();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  it('spends the quota once at the exact quota: zero 429s, one upstream call per distinct observable, every record ok', async () => {
    const distinct = observables(60);
    // Process i skips a third of the set: every observable is asked for by two processes at once.
    const observablesFor = (i: number) => shuffled(distinct.filter((_, n) => Math.floor(n / 20) !== i), i + 1);
    const { results } = await runFleet({
      processes: 3,
      observablesFor,
      worker: {
        redisUrl: SHARED_REDIS_URL,
        keyPrefix: prefix,
        instanceName: 'vt3',
        pluginModule: '@x/provider-virustotal-v3',
        providerOptions: { baseUrl: simulator.v3Url, apiKey: 'fleet-key' },
        // Exactly the upstream's quota, no margin: a charge counts from its answer (Redis's clock),
        // the latest moment the simulator can have counted its arrival.
        rateLimit: [{ requests: quota.requests, per: quota.perMs }],
        concurrency: 16,
      },
      timeoutMs: 60_000,
    });

    const served = simulator.stats();
    expect(served.byStatus['429'] ?? 0).toBe(0);
    expect(served.byStatus['204'] ?? 0).toBe(0);
    // 60 requests, all answered 200, for 60 distinct observables that each needed one: no duplicates.
    expect(served.total).toBe(60);
    expect(served.byStatus['200']).toBe(60);
    expect(results.reduce((sum, r) => sum + r.stats.upstreamCalls, 0)).toBe(60);
    for (const result of results) {
      expect(result.statuses).toEqual({ ok: 40 });
      expect(result.storeStatus).toBe('ready');
    }
  }, 90_000);
});
