import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '@x/virustotal-simulator';
import { startSlowProxy, type SlowProxy } from '../../bench/slow-proxy.mjs';
import { assertBuilt, collect, startCli, tempDir } from '../helpers/cli.js';

// The built CLI against the simulator behind a proxy that HOLDS 2 of 100 lookups until every
// lookup has arrived. With head-of-line blocking (await the oldest of `concurrency` lookups) the
// other 98 could never all arrive and the run would stall; here they all do, at the default
// concurrency, and the output still comes out in input order. Event-driven: no timing margins.
const COUNT = 100;
const ip = (i: number) => `11.66.0.${i}`;
const slow = new Set([ip(3), ip(40)]);

let simulator: Awaited<ReturnType<typeof startSimulator>>;
let proxy: SlowProxy;
let tmp: Awaited<ReturnType<typeof tempDir>>;

describe('enrich: no head-of-line blocking', () => {
  beforeAll(async () => {
    assertBuilt();
    simulator = await startSimulator({ port: 0, apiKeys: ['k'] });
    proxy = await startSlowProxy({ target: simulator.v3Url, isSlow: (path) => slow.has(path.split('/').pop() ?? '') });
    tmp = await tempDir();
  });
  afterAll(async () => {
    await proxy?.close();
    await simulator?.close();
    await tmp?.cleanup();
  });

  it('starts every other lookup while two are held, then writes all records in input order', async () => {
    const config = await tmp.write('x-enrich.yaml', `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: k, baseUrl: "${proxy.url}" }, rateLimit: false }\n`);
    const input = await tmp.write('ips.txt', Array.from({ length: COUNT }, (_, i) => ip(i)).join('\n'));
    const child = startCli(['--config', config, 'enrich', '--no-cache', '--quiet', '--format', 'jsonl', '--input', input], { cwd: tmp.dir });
    const done = collect(child, { timeoutMs: 45_000 });
    await proxy.waitForArrivals(COUNT);
    expect(proxy.slowArrived).toBe(2);
    proxy.release();
    const result = await done;
    expect(result.code).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { input: string; status: string });
    expect(records.map((record) => record.input)).toEqual(Array.from({ length: COUNT }, (_, i) => ip(i)));
    expect(records.every((record) => record.status === 'ok' || record.status === 'not_found')).toBe(true);
  });
});
