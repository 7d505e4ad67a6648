import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '@x/virustotal-simulator';
import { assertBuilt, runCli, tempDir } from '../helpers/cli.js';

// Every bad input is one record or one line, and the run goes on to the end of the file.
let simulator: Awaited<ReturnType<typeof startSimulator>>;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let config: string;

describe('bad input through the CLI', () => {
  beforeAll(async () => {
    assertBuilt();
    simulator = await startSimulator({ port: 0, apiKeys: ['k'] });
    tmp = await tempDir();
    config = await tmp.write('x-enrich.yaml', `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: k, baseUrl: "${simulator.v3Url}" }, rateLimit: false }\n`);
  });
  afterAll(async () => {
    await simulator?.close();
    await tmp?.cleanup();
  });

  it('a CSV with a stray quote, an unclosed quote, binary bytes and an over-long cell: every other row enriched, complete, exit 2', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `${i},11.44.0.${i}`);
    rows[20] = '20,a"b';
    rows[50] = '50,"bad';
    rows[90] = `90,${'x'.repeat(20_000)}`;
    const path = join(tmp.dir, 'alerts.csv');
    await writeFile(path, Buffer.concat([Buffer.from(`id,observable\n${rows.slice(0, 120).join('\n')}\n`), Buffer.from([0, 0xff, 0xfe, 0x2c, 0x80, 0x0a]), Buffer.from(`${rows.slice(120).join('\n')}\n`)]));
    const result = await runCli(['--config', config, 'enrich', '--no-cache', '--quiet', '--format', 'json', '--input', path], { cwd: tmp.dir });
    const doc = JSON.parse(result.stdout) as { records: Array<{ input: string; status: string }>; complete: boolean; interrupted: boolean; invalidInputs: number };
    expect(doc.complete).toBe(true);
    expect(doc.interrupted).toBe(false);
    // 200 rows + the binary line: 197 good rows and a"b, the binary row as an invalid record; "bad and the long cell as lines.
    expect(doc.records).toHaveLength(199);
    expect(doc.records.filter((record) => record.status === 'ok' || record.status === 'not_found')).toHaveLength(197);
    expect(doc.records.at(-1)?.input).toBe('11.44.0.199');
    expect(result.stderr).toMatch(/line 52: not a valid CSV row \(a quote that is never closed\); skipped/);
    expect(result.stderr).toMatch(/line 92: longer than 8192 characters/);
    expect(result.code).toBe(2);
  });
});
