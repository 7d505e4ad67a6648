import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zResultRecord } from '@x/core';
import { startSimulator } from '@x/virustotal-simulator';
import { assertBuilt, collect, runCli, startCli, tempDir } from '../helpers/cli.js';
import { stixProblems } from '../helpers/stix.js';

// The built CLI against the VirusTotal simulator (in this process), with both real providers.
const KEY = 'e2e-simulator-key-SECRET-1234';
let simulator: Awaited<ReturnType<typeof startSimulator>>;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let config: string;

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
    rateLimit: false
  vt2:
    use: "@x/provider-virustotal-v2"
    options: { apiKey: "\${SIM_KEY}", apiUrl: "${simulator.v2Url}" }
    rateLimit: false
`,
  );
});
afterAll(async () => {
  await simulator?.close();
  await tmp?.cleanup();
});

const MALICIOUS_FILE = `000000001062000076${'0'.repeat(46)}`;
const SAMPLE = [MALICIOUS_FILE, 'hxxp://malicious[.]example/x', 'suspicious.example', '198.51.100.7', '192.0.2.1'];
const env = { SIM_KEY: KEY };
const enrich = (args: string[]) => runCli(['--config', config, '--log-level', 'debug', 'enrich', ...args], { cwd: tmp.dir, env });
const parseRecords = (stdout: string) => stdout.trimEnd().split('\n').map((line) => zResultRecord.parse(JSON.parse(line)));

describe('against the VirusTotal simulator', () => {
  it('caches across runs: the second run makes no upstream call', async () => {
    const cacheDir = join(tmp.dir, 'cache-two-runs');
    simulator.reset();
    const first = await enrich(['--cache-dir', cacheDir, ...SAMPLE]);
    expect(first.code).toBe(0);
    const firstCalls = simulator.stats().total;
    expect(firstCalls).toBeGreaterThanOrEqual(SAMPLE.length);
    simulator.reset();
    const second = await enrich(['--cache-dir', cacheDir, ...SAMPLE]);
    expect(second.code).toBe(0);
    expect(simulator.stats().total).toBe(0);
    const records = second.stdout.trimEnd().split('\n').map((line) => zResultRecord.parse(JSON.parse(line)));
    expect(records).toHaveLength(SAMPLE.length * 2);
    for (const record of records) expect(record.cache.hit).toBe(true);
    expect(records.map((record) => record.verdict)).toEqual(first.stdout.trimEnd().split('\n').map((line) => JSON.parse(line).verdict));
  });

  it('never prints the API key, even at debug level', async () => {
    const result = await enrich(['--no-cache', '--format', 'json', ...SAMPLE]);
    expect(result.stdout + result.stderr).not.toContain(KEY);
    const show = await runCli(['--config', config, 'config', 'show'], { cwd: tmp.dir, env });
    expect(show.stdout).not.toContain(KEY);
    expect(show.stdout).toContain('[REDACTED]');
  });

  it('marks the End-of-Life v2 provider in records, warnings and the providers list', async () => {
    const result = await enrich(['--no-cache', '198.51.100.7']);
    const v2 = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line)).find((record) => record.provider.name === 'vt2');
    expect(v2.provider.lifecycle).toMatchObject({ status: 'end-of-life', replacedBy: '@x/provider-virustotal-v3' });
    expect(result.stderr).toContain('X_WARN_PROVIDER_END_OF_LIFE');
    const providers = await runCli(['--config', config, 'providers'], { cwd: tmp.dir, env });
    expect(providers.stdout).toMatch(/! vt2\s+@x\/provider-virustotal-v2\s+\S+\s+\S+\s+none\s+\S+\s+END-OF-LIFE since 2021-08-11, use @x\/provider-virustotal-v3/);
  });

  it('exits 3 for --fail-on malicious on a malicious file', async () => {
    expect((await enrich(['--no-cache', '--fail-on', 'malicious', MALICIOUS_FILE])).code).toBe(3);
  });

  it('writes a STIX bundle with indicators and ttp objects that meet the spec', async () => {
    const result = await enrich(['--no-cache', '--format', 'stix', ...SAMPLE]);
    const bundle = JSON.parse(result.stdout);
    expect(stixProblems(bundle.objects)).toEqual([]);
    const types = new Set(bundle.objects.map((object: { type: string }) => object.type));
    for (const type of ['identity', 'file', 'url', 'domain-name', 'ipv4-addr', 'indicator', 'relationship']) expect(types).toContain(type);
    expect(bundle.objects.some((object: { type: string }) => object.type === 'malware' || object.type === 'attack-pattern')).toBe(true);
    // Families only from v3's popular threat names; v2's per-engine labels become a note.
    type Obj = { type: string; name?: string; is_family?: boolean; malware_types?: string[]; object_refs?: string[]; content?: string };
    const objects = bundle.objects as Obj[];
    const v3 = parseRecords((await enrich(['--no-cache', '--format', 'jsonl', '--providers', 'vt3', MALICIOUS_FILE])).stdout);
    const threatNames = v3[0]!.entities.filter((e) => e.category === 'threat_name').map((e) => e.name);
    const categories = v3[0]!.entities.filter((e) => e.category === 'threat_category').map((e) => e.name);
    expect(threatNames.length).toBeGreaterThan(0);
    // The sample's only file is MALICIOUS_FILE: its threat names are every family in the bundle.
    expect(objects.filter((o) => o.type === 'malware' && o.is_family).map((o) => o.name).sort()).toEqual([...new Set(threatNames)].sort());
    const sample = objects.find((o) => o.type === 'malware' && o.is_family === false && o.name === MALICIOUS_FILE);
    expect(sample?.malware_types).toEqual([...new Set(categories.map((name) => name.toLowerCase()))].sort());
    const v2Labels = parseRecords((await enrich(['--no-cache', '--format', 'jsonl', '--providers', 'vt2', MALICIOUS_FILE])).stdout)[0]!.entities.filter((e) => e.type === 'ttp').map((e) => e.name);
    expect(v2Labels.length).toBeGreaterThan(0);
    for (const label of v2Labels) expect(objects.filter((o) => o.type === 'malware').map((o) => o.name)).not.toContain(label);
    const note = objects.find((o) => o.type === 'note' && o.content?.includes(v2Labels[0]!));
    expect(note?.content).toMatch(/^Detection names vt2 reported/);
  });

  it('demo: every verdict with both providers, the End-of-Life notice and where to go next', async () => {
    const result = await runCli(['demo'], { cwd: tmp.dir, timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    for (const verdict of ['malicious', 'suspicious', 'benign', 'unknown']) expect(result.stdout).toContain(verdict);
    expect(result.stdout).toMatch(/not_found/);
    // The first line says the data is synthetic; the End-of-Life warning is said once, in the log
    // (a JSON line here, stderr being no terminal), not repeated under the table.
    expect(result.stderr.split('\n')[0]).toMatch(/^x-enrich demo: SYNTHETIC data, made up by the VirusTotal simulator/);
    expect(result.stderr.match(/X_WARN_PROVIDER_END_OF_LIFE/g)).toHaveLength(1);
    expect(result.stdout).not.toContain('end-of-life');
    expect(result.stdout).toContain('Where to go next');
  });

  it('demo: ends quietly, exit 0, when the reader quits early (x-enrich demo | head -c 10)', async () => {
    const child = startCli(['demo'], { cwd: tmp.dir });
    // The reader is gone before the demo writes anything, so its first write fails with EPIPE
    // (closing after the first chunk would race the demo's last writes).
    child.stdout!.destroy();
    const result = await collect(child, { timeoutMs: 60_000 });
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(result.stderr).not.toMatch(/EPIPE|unexpected error/);
    expect(result.code).toBe(0);
  });
});

describe('x-enrich cache', () => {
  it('prunes expired entries and clears the file cache enrich uses', async () => {
    const dir = join(tmp.dir, 'cache-commands');
    const cache = (verb: string) => runCli(['--config', config, 'cache', verb, '--cache-dir', dir], { cwd: tmp.dir, env });
    expect((await enrich(['--cache-dir', dir, 'suspicious.example', '198.51.100.7'])).code).toBe(0);
    const entries = async () => (await readdir(dir)).filter((name) => name.endsWith('.json'));
    expect(await entries()).toHaveLength(4); // 2 observables x 2 providers

    const none = await cache('prune');
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(`${dir}: removed 0 expired entries; 4 still valid.\n`);

    // A file's modification time is its entry's expiry: make one expire.
    const [first] = await entries();
    const past = new Date(Date.now() - 60_000);
    await utimes(join(dir, first as string), past, past);
    expect((await cache('prune')).stdout).toBe(`${dir}: removed 1 expired entry; 3 still valid.\n`);
    expect(await entries()).toHaveLength(3);

    const cleared = await cache('clear');
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toBe(`Cleared the cache: file store in ${dir}.\n`);
    expect(await entries()).toEqual([]);
    simulator.reset();
    expect((await enrich(['--cache-dir', dir, 'suspicious.example'])).code).toBe(0);
    expect(simulator.stats().total).toBe(2); // both providers asked upstream again
  });

  it('writes through tmp/ in the cache directory, and removes a killed writer\'s temporary file at the next start', async () => {
    const dir = join(tmp.dir, 'cache-temps');
    expect((await enrich(['--cache-dir', dir, 'suspicious.example'])).code).toBe(0);
    // Entries beside each other, the writers' temporary files in tmp/ (none left after a run).
    expect((await readdir(dir)).filter((name) => name.endsWith('.json'))).toHaveLength(2);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);

    // A writer killed mid-write (SIGKILL: its pid runs no more) left its temporary file.
    const killed = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await once(killed, 'spawn');
    const exited = once(killed, 'exit');
    killed.kill('SIGKILL');
    await exited;
    const orphan = `${'0'.repeat(64)}.json.${killed.pid}.deadbeef.tmp`;
    await writeFile(join(dir, 'tmp', orphan), '{"key":');
    simulator.reset();
    const next = await enrich(['--cache-dir', dir, 'suspicious.example']);
    expect(next.code).toBe(0);
    expect(simulator.stats().total).toBe(0); // a cached start
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

});
