import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zResultRecord } from '@x/core';
import { startSimulator } from '@x/virustotal-simulator';
import { assertBuilt, runCli, tempDir } from '../helpers/cli.js';

// The built CLI with `cache: { store: redis }` and `rateLimitStore: { store: redis }`: two
// separate processes share one Redis cache, so the second spends no quota. (No --cache-dir: it
// would select a file cache whatever the config says.)
// Redis is 127.0.0.1:6379 on our machines and .ci/run starts one on a fresh machine; without
// it this file fails in CI (CI=true) and says so loudly elsewhere.
const REDIS = { host: '127.0.0.1', port: 6379 };
const redisUp = await new Promise<boolean>((resolve) => {
  const socket = connect(REDIS, () => (socket.end(), resolve(true)));
  socket.on('error', () => resolve(false));
});
if (!redisUp) {
  const message = `Redis is not reachable on ${REDIS.host}:${REDIS.port}: the app's Redis e2e tests cannot run`;
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`\n!!! ${message} (skipped outside CI) !!!\n`);
}

const KEY = 'e2e-redis-key-SECRET-5678';
const prefix = `x-enrich-e2e-${randomBytes(4).toString('hex')}:`;
let simulator: Awaited<ReturnType<typeof startSimulator>>;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let config: string;

describe.runIf(redisUp)('the CLI on shared Redis stores', () => {
  beforeAll(async () => {
    assertBuilt();
    simulator = await startSimulator({ port: 0, apiKeys: [KEY] });
    tmp = await tempDir();
    config = await tmp.write(
      'x-enrich.yaml',
      `providers:
  vt3:
    use: "@x/provider-virustotal-v3"
    options: { apiKey: "\${SIM_KEY}", baseUrl: "${simulator.v3Url}" }
    rateLimit: [{ requests: 1000, per: 1m }]
cache: { store: redis, url: "redis://${REDIS.host}:${REDIS.port}", keyPrefix: "${prefix}", onUnavailable: refuse }
rateLimitStore: { store: redis, url: "redis://${REDIS.host}:${REDIS.port}", keyPrefix: "${prefix}", onUnavailable: refuse }
`,
    );
  });
  afterAll(async () => {
    await simulator?.close();
    await tmp?.cleanup();
    // Remove this run's keys (redis-cli ships with redis-server; best effort).
    try {
      const keys = execFileSync('redis-cli', ['-h', REDIS.host, '-p', String(REDIS.port), '--scan', '--pattern', `${prefix}*`], { encoding: 'utf8' }).split('\n').filter(Boolean);
      if (keys.length) execFileSync('redis-cli', ['-h', REDIS.host, '-p', String(REDIS.port), 'DEL', ...keys]);
    } catch {
      /* keys expire with their TTLs anyway */
    }
  });

  it('a second process is served from Redis: no upstream call', async () => {
    const sample = ['malicious.example', '198.51.100.7', 'hxxp://suspicious[.]example/a'];
    const env = { SIM_KEY: KEY };
    const run = () => runCli(['--config', config, 'enrich', '--format', 'jsonl', ...sample], { cwd: tmp.dir, env });

    simulator.reset();
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(simulator.stats().total).toBe(sample.length);

    simulator.reset();
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(simulator.stats().total).toBe(0);
    const records = second.stdout.trimEnd().split('\n').map((line) => zResultRecord.parse(JSON.parse(line)));
    expect(records.map((record) => [record.cache.hit, record.status])).toEqual(sample.map(() => [true, 'ok']));
    expect(first.stderr + first.stdout + second.stderr + second.stdout).not.toContain(KEY);

    // The budget lives in Redis too: the rate-limit keys exist under this deployment's prefix.
    const keys = execFileSync('redis-cli', ['-h', REDIS.host, '-p', String(REDIS.port), '--scan', '--pattern', `${prefix}*`], { encoding: 'utf8' });
    expect(keys).toContain(prefix);
  });

  it('cache clear removes this deployment\'s cached outcomes from Redis; cache prune leaves expiry to Redis', async () => {
    const env = { SIM_KEY: KEY };
    const run = () => runCli(['--config', config, 'enrich', '--format', 'jsonl', 'cleared.example'], { cwd: tmp.dir, env });
    expect((await run()).code).toBe(0);
    const prune = await runCli(['--config', config, 'cache', 'prune'], { cwd: tmp.dir, env });
    expect(prune.stdout).toMatch(/^The cache is redis redis:\/\/127\.0\.0\.1:6379 \(prefix x-enrich-e2e-[0-9a-f]+:\): Redis expires entries itself/);
    const clear = await runCli(['--config', config, 'cache', 'clear'], { cwd: tmp.dir, env });
    expect(clear.code, clear.stderr).toBe(0);
    expect(clear.stdout).toContain('Cleared the cache: redis redis://127.0.0.1:6379');
    simulator.reset();
    const after = await run();
    expect(JSON.parse(after.stdout).cache.hit).toBe(false);
    expect(simulator.stats().total).toBe(1);
  });
});
