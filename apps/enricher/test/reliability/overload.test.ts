import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '@x/virustotal-simulator';
import { parallelEnrich } from '../../bench/parallel-load.mjs';
import { assertBuilt, runCli, startServe, tempDir } from '../helpers/cli.js';

// Local overload is backpressure, never a failed lookup. Scaled down from the figure in
// docs/operations/reliability.md (100 requests x 50 observables at the defaults): a bulkhead of
// 4 + 44 and a concurrency of 8 admit 6 requests at a time, so 16 parallel requests overflow it.
let simulator: Awaited<ReturnType<typeof startSimulator>>;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let serve: ChildProcess | undefined;
let config: string;

describe('overload', () => {
  beforeAll(async () => {
    assertBuilt();
    simulator = await startSimulator({ port: 0, apiKeys: ['k'] });
    tmp = await tempDir();
    config = await tmp.write(
      'x-enrich.yaml',
      `concurrency: 8
providers:
  vt3:
    use: "@x/provider-virustotal-v3"
    options: { apiKey: k, baseUrl: "${simulator.v3Url}" }
    rateLimit: false
    resilience: { bulkhead: { maxConcurrent: 4, maxQueue: 44 } }
`,
    );
  });
  afterAll(async () => {
    serve?.kill('SIGKILL');
    await simulator?.close();
    await tmp?.cleanup();
  });

  it('serve: requests past the bound get 503 with Retry-After before starting; retried, every record succeeds', async () => {
    const started = startServe(config, { cwd: tmp.dir });
    serve = started.child;
    const base = await started.base;
    const result = await parallelEnrich({ url: base, requests: 16, perRequest: 10, observable: (i) => `11.55.${i >> 8}.${i & 255}` });
    expect(result.records).toBe(160);
    expect(result.errorRecords).toBe(0);
    expect(result.overloaded).toBeGreaterThan(0); // the bound was reached: some requests were told to come back
    expect(result.retryAfterMissing).toBe(0);
  });

  it('the CLI waits: --concurrency beyond the bulkhead is lowered to it, no X_BULKHEAD_FULL', async () => {
    const input = await tmp.write('ips.txt', Array.from({ length: 300 }, (_, i) => `11.56.${i >> 8}.${i & 255}`).join('\n'));
    const result = await runCli(['--config', config, 'enrich', '--no-cache', '--quiet', '--format', 'jsonl', '--concurrency', '500', '--input', input], { cwd: tmp.dir });
    expect(result.code).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { status: string });
    expect(records).toHaveLength(300);
    expect(records.filter((record) => record.status === 'error')).toEqual([]);
  });
});
