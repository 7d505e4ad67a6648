import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '@x/virustotal-simulator';
import { assertBuilt, runCli, tempDir } from '../helpers/cli.js';

// A wrong API key is refused once per instance, not once per observable; and only the selected
// instances are loaded (no End-of-Life warning for a v2 instance that `-p vt3` leaves out).
let simulator: Awaited<ReturnType<typeof startSimulator>>;
let tmp: Awaited<ReturnType<typeof tempDir>>;

describe('instances of a run', () => {
  beforeAll(async () => {
    assertBuilt();
    simulator = await startSimulator({ port: 0, apiKeys: ['right-key'] });
    tmp = await tempDir();
  });
  afterAll(async () => {
    await simulator?.close();
    await tmp?.cleanup();
  });

  it('a wrong key: the upstream sees at most one wave of calls (the concurrency), every record fails fast with X_UPSTREAM_AUTH', async () => {
    const config = await tmp.write(
      'wrong-key.yaml',
      `concurrency: 4\nproviders:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: wrong-key, baseUrl: "${simulator.v3Url}" }, rateLimit: false }\n`,
    );
    const input = await tmp.write('ips.txt', Array.from({ length: 200 }, (_, i) => `11.33.0.${i}`).join('\n'));
    simulator.reset();
    const result = await runCli(['--config', config, 'enrich', '--no-cache', '--quiet', '--format', 'jsonl', '--input', input], { cwd: tmp.dir });
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { status: string; error: { code: string } | null });
    expect(records).toHaveLength(200);
    expect(records.every((record) => record.status === 'error' && record.error?.code === 'X_UPSTREAM_AUTH')).toBe(true);
    expect(simulator.stats().total).toBeLessThanOrEqual(4);
    expect(result.code).toBe(2);
  });

  it('-p vt3 loads only vt3: no End-of-Life warning for the configured v2 instance', async () => {
    const config = await tmp.write(
      'both.yaml',
      `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: right-key, baseUrl: "${simulator.v3Url}" }, rateLimit: false }\n  vt2: { use: "@x/provider-virustotal-v2", options: { apiKey: right-key, apiUrl: "${simulator.v2Url}" }, rateLimit: false }\n`,
    );
    const only = await runCli(['--config', config, 'enrich', '--no-cache', '-p', 'vt3', '--format', 'jsonl', '8.8.8.8'], { cwd: tmp.dir });
    expect(only.code).toBe(0);
    expect(only.stderr).not.toContain('X_WARN_PROVIDER_END_OF_LIFE');
    const both = await runCli(['--config', config, 'enrich', '--no-cache', '--format', 'jsonl', '8.8.8.8'], { cwd: tmp.dir });
    expect(both.stderr).toContain('X_WARN_PROVIDER_END_OF_LIFE');
  });
});
