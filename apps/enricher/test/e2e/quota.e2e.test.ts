import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zResultRecord } from '@x/core';
import { startSimulator, type Simulator } from '@x/virustotal-simulator';
import { assertBuilt, collect, runCli, startCli, tempDir } from '../helpers/cli.js';

// The built CLI at EXACTLY the upstream's published quota (no margin), against the simulator
// counting requests when they arrive, in both ways real APIs count (sliding and fixed windows).
const KEY = 'e2e-quota-key-SECRET-5678';
const QUOTA = { requests: 8, perMs: 1_000 };
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('x-enrich-quota-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

const ips = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `198.51.${100 + Math.floor((from + i) / 250)}.${1 + ((from + i) % 250)}`);

async function configFor(simulator: Simulator, name: string, extra = ''): Promise<string> {
  return tmp.write(
    `${name}.yaml`,
    `providers:
  vt3:
    use: "@x/provider-virustotal-v3"
    options: { apiKey: "\${SIM_KEY}", baseUrl: "${simulator.v3Url}" }
    rateLimit: [{ requests: ${QUOTA.requests}, per: ${QUOTA.perMs}ms }]
${extra}`,
  );
}

const enrichArgs = (config: string, cacheDir: string, observables: string[]): string[] => ['--config', config, 'enrich', '--cache-dir', cacheDir, '--format', 'jsonl', ...observables];
const env = { SIM_KEY: KEY };
const statuses = (stdout: string): string[] => stdout.trimEnd().split('\n').map((line) => zResultRecord.parse(JSON.parse(line)).status);
/** Every lookup answered (the simulator says not_found for some addresses): no error, no skip. */
const answered = (stdout: string): boolean => statuses(stdout).every((s) => s === 'ok' || s === 'not_found');

describe.each(['sliding', 'fixed'] as const)('at the exact quota, simulator counting %s windows', (quotaMode) => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await startSimulator({ port: 0, apiKeys: [KEY], quotas: [QUOTA], quotaMode });
  });
  afterAll(async () => {
    await simulator?.close();
  });

  it('one CLI process: never refused', async () => {
    const config = await configFor(simulator, `one-${quotaMode}`);
    const run = await runCli(enrichArgs(config, join(tmp.dir, `one-${quotaMode}`), ips(0, 24)), { env, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(answered(run.stdout), run.stdout).toBe(true);
    expect(simulator.stats().byStatus).toEqual(expect.not.objectContaining({ '429': expect.anything() }));
    expect(simulator.stats().total).toBe(24);
  });

  it('two CLI runs back to back and two in parallel share one budget (file store): never refused', async () => {
    simulator.reset();
    const config = await configFor(simulator, `two-${quotaMode}`);
    const cacheDir = join(tmp.dir, `two-${quotaMode}`);
    const first = await runCli(enrichArgs(config, cacheDir, ips(100, 12)), { env, timeoutMs: 60_000 });
    const second = await runCli(enrichArgs(config, cacheDir, ips(200, 12)), { env, timeoutMs: 60_000 });
    const parallel = await Promise.all([
      collect(startCli(enrichArgs(config, cacheDir, ips(300, 12)), { env }), { timeoutMs: 60_000 }),
      collect(startCli(enrichArgs(config, cacheDir, ips(400, 12)), { env }), { timeoutMs: 60_000 }),
    ]);
    for (const run of [first, second, ...parallel]) {
      expect(run.code, run.stderr).toBe(0);
      expect(answered(run.stdout), run.stdout).toBe(true);
    }
    expect(simulator.stats().byStatus).toEqual(expect.not.objectContaining({ '429': expect.anything() }));
    expect(simulator.stats().total).toBe(48);
    // Every lock was released.
    expect((await readdir(join(cacheDir, 'rate-limits'))).filter((name) => name.endsWith('.lock'))).toEqual([]);
  });
});

describe('a refusal that still happens', () => {
  it('is absorbed: the request waits for budget again without a retry attempt or a fixed sleep, with one warning', async () => {
    const simulator = await startSimulator({ port: 0, apiKeys: [KEY], quotas: [QUOTA] });
    try {
      // Retries off: a refusal handled by the retry policy would end as an error record.
      const config = await configFor(simulator, 'refused', '    resilience: { retry: false }\n');
      // Another tool spent the key: the next request is refused (that several refusals in one
      // window give one warning is proven on the fake clock in core's rate-limiter tests).
      simulator.setFaults({ quotaRefusals: 1 });
      const started = Date.now();
      const run = await runCli(enrichArgs(config, join(tmp.dir, 'refused'), ips(600, 4)), { env, timeoutMs: 30_000 });
      const elapsed = Date.now() - started;
      expect(run.code, run.stderr).toBe(0);
      expect(answered(run.stdout), run.stdout).toBe(true);
      expect(simulator.stats().byStatus['429']).toBe(1);
      expect(simulator.stats().total).toBe(5);
      expect(run.stderr.match(/X_WARN_QUOTA_REFUSED/g), run.stderr).toHaveLength(1);
      // The window is blocked for one quota window (1 s), not the retry policy's 60 s delay.
      expect(elapsed).toBeLessThan(30_000);
    } finally {
      await simulator.close();
    }
  });
});

describe('a CLI process killed with SIGKILL', () => {
  it('leaves no lock behind: the next run gets the budget and finishes', async () => {
    const simulator = await startSimulator({ port: 0, apiKeys: [KEY], quotas: [QUOTA] });
    try {
      const config = await configFor(simulator, 'killed');
      const cacheDir = join(tmp.dir, 'killed');
      const child = startCli(enrichArgs(config, cacheDir, ips(700, 80)), { env });
      const done = collect(child, { timeoutMs: 60_000 });
      // Kill it mid-run, while it spends and waits for budget.
      while (simulator.stats().total < 12) await new Promise((resolve) => setTimeout(resolve, 20));
      child.kill('SIGKILL');
      expect((await done).signal).toBe('SIGKILL');
      const next = await runCli(enrichArgs(config, cacheDir, ips(800, 4)), { env, timeoutMs: 90_000 });
      expect(next.code, next.stderr).toBe(0);
      expect(answered(next.stdout), next.stdout).toBe(true);
      expect(simulator.stats().byStatus['429']).toBeUndefined();
      expect((await readdir(join(cacheDir, 'rate-limits'))).filter((name) => name.includes('.lock'))).toEqual([]);
    } finally {
      await simulator.close();
    }
  }, 120_000);
});

describe('the ETA and the published demand', () => {
  it('logs the ETA every second as a `progress` debug line, and withdraws its demand from the store when it ends', async () => {
    const simulator = await startSimulator({ port: 0, apiKeys: [KEY], quotas: [QUOTA] });
    try {
      const config = await configFor(simulator, 'eta');
      const cacheDir = join(tmp.dir, 'eta');
      // 24 lookups at 8 a second: three waves, about two seconds.
      const run = await runCli(['--config', config, '--log-level', 'debug', 'enrich', '--cache-dir', cacheDir, '--format', 'jsonl', ...ips(600, 24)], { env, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      const logged = run.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
      const upfront = logged.find((line) => line.msg === 'up-front estimate');
      expect(upfront).toMatchObject({ lookups: 24, estimateMs: 2_000 });
      const progress = logged.filter((line) => line.msg === 'progress');
      expect(progress.length).toBeGreaterThan(0);
      for (const line of progress) expect(line).toMatchObject({ total: 24, done: expect.any(Number), etaMs: expect.any(Number), others: 0 });
      // The budget file holds the charge log and no demand: the run withdrew it at the end.
      const files = (await readdir(join(cacheDir, 'rate-limits'))).filter((name) => name.endsWith('.json'));
      expect(files).toHaveLength(1);
      const log = JSON.parse(await readFile(join(cacheDir, 'rate-limits', files[0] as string), 'utf8')) as { charges: unknown[]; demand?: unknown };
      expect(log.charges.length).toBeGreaterThan(0);
      expect(log.demand).toBeUndefined();
    } finally {
      await simulator.close();
    }
  });
});
