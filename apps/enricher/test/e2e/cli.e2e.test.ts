import { join, relative } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zResultRecord } from '@x/core';
import { APP_DIR, assertBuilt, blocklistConfig, collect, runCli, startCli, tempDir } from '../helpers/cli.js';
import { stixProblems } from '../helpers/stix.js';

// The built CLI, spawned as a user runs it, over the example plugin that lives in examples/.
let tmp: Awaited<ReturnType<typeof tempDir>>;
let config: string;
let cacheDir: string;
const NO_STACK = /\n\s+at .+:\d+:\d+/;

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir();
  config = await tmp.write('x-enrich.yaml', blocklistConfig(tmp.dir, 'server:\n  token: "e2e-secret-token-0123456789"\n'));
  cacheDir = join(tmp.dir, 'cache');
});
afterAll(() => tmp?.cleanup());

const enrich = (args: string[], options: { stdin?: string } = {}) => runCli(['--config', config, 'enrich', '--cache-dir', cacheDir, ...args], { ...options, cwd: tmp.dir });
const records = (stdout: string) => stdout.trimEnd().split('\n').map((line) => zResultRecord.parse(JSON.parse(line)));

describe('x-enrich enrich', () => {
  it('writes one jsonl record per observable x provider when stdout is not a terminal', async () => {
    const result = await enrich(['evil.example', 'a.evil.example', 'hxxp://odd[.]example/x', 'example.org']);
    expect(result.stderr).not.toMatch(NO_STACK);
    expect(result.code).toBe(0);
    const out = records(result.stdout);
    expect(out.map((r) => [r.input, r.observable?.type, r.status, r.verdict])).toEqual([
      ['evil.example', 'domain', 'ok', 'malicious'],
      ['a.evil.example', 'domain', 'ok', 'malicious'],
      ['hxxp://odd[.]example/x', 'url', 'ok', 'suspicious'],
      ['example.org', 'domain', 'not_found', 'unknown'],
    ]);
    expect(out[1]!.reasons[0]!.message).toBe('a.evil.example is on test list as malicious (via evil.example)');
    expect(result.stderr).toContain('x-enrich: 4 observables in');
  });

  it('marks hashes unsupported by a provider that only knows hosts, without failing', async () => {
    const result = await enrich(['44d88612fea8a8f36de82e1278abb02f']);
    expect(result.code).toBe(0);
    expect(records(result.stdout)[0]).toMatchObject({ status: 'unsupported', verdict: 'unknown' });
  });

  it('reports bad observables as error records and on stderr, and still runs the rest (exit 2)', async () => {
    const result = await enrich(['evil.example', 'not an observable', '999.1.1.1']);
    expect(result.code).toBe(2);
    const out = records(result.stdout);
    expect(out).toHaveLength(3);
    expect(out[0]).toMatchObject({ verdict: 'malicious' });
    for (const bad of out.slice(1)) expect(bad).toMatchObject({ observable: null, status: 'error', error: { code: 'X_OBSERVABLE_INVALID' } });
    expect(result.stderr).toMatch(/x-enrich: argument 2: .*\(X_OBSERVABLE_INVALID\)/);
    expect(result.stderr).toMatch(/x-enrich: argument 3: .*\(X_OBSERVABLE_INVALID\)/);
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  it('exits 3 with --fail-on when a verdict reaches it, 0 when none does', async () => {
    expect((await enrich(['--fail-on', 'malicious', 'example.org', 'evil.example'])).code).toBe(3);
    expect((await enrich(['--fail-on', 'malicious', 'odd.example'])).code).toBe(0);
    expect((await enrich(['--fail-on', 'suspicious', 'odd.example'])).code).toBe(3);
  });

  it('reads --input files (lines, JSONL with --field, CSV with a column) and stdin', async () => {
    const lines = await tmp.write('iocs.txt', '# list\nevil.example\n\nexample.org\n');
    const jsonl = await tmp.write('iocs.jsonl', '{"ioc":"evil.example"}\n{"ioc":"odd.example"}\n');
    const csv = await tmp.write('iocs.csv', 'id,observable\n1,evil.example\n2,"odd.example"\n');
    expect(records((await enrich(['--input', lines])).stdout).map((r) => r.verdict)).toEqual(['malicious', 'unknown']);
    expect(records((await enrich(['--input', jsonl, '--field', 'ioc'])).stdout).map((r) => r.verdict)).toEqual(['malicious', 'suspicious']);
    expect(records((await enrich(['--input', csv])).stdout).map((r) => r.verdict)).toEqual(['malicious', 'suspicious']);
    expect(records((await enrich(['--input', '-'], { stdin: 'odd.example\n' })).stdout).map((r) => r.verdict)).toEqual(['suspicious']);
    expect(records((await enrich([], { stdin: 'evil.example\n' })).stdout).map((r) => r.verdict)).toEqual(['malicious']);
  });

  it('csv: echoes a formula-like input neutralised, so a spreadsheet shows it as text', async () => {
    const alerts = await tmp.write('alerts.csv', 'id,indicator\n4,=cmd|calc\n5,evil.example\n');
    const result = await enrich(['--input', alerts, '--field', 'indicator', '--format', 'csv']);
    expect(result.code).toBe(2); // `=cmd|calc` is not an observable
    expect(result.stdout).not.toMatch(/(^|,)=cmd/m);
    const rows = parseCsv(result.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((row) => [row.input, row.verdict])).toEqual([
      ["'=cmd|calc", 'unknown'],
      ['evil.example', 'malicious'],
    ]);
  });

  it('fails with exit 1 and one line for a missing input file, an unknown provider or a bad flag', async () => {
    const missing = await enrich(['--input', join(tmp.dir, 'nope.txt')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--input .*nope\.txt: cannot read it \(ENOENT\)/);
    const unknown = await enrich(['--providers', 'vt9', 'evil.example']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--providers: no instance named vt9 (configured: blocklist)');
    const flag = await enrich(['--format', 'xml', 'evil.example']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/argument 'xml' is invalid/);
  });

  describe('formats', () => {
    const inputs = ['evil.example', 'odd.example', 'example.org', 'bad input'];

    it('json: one document with records, summaries and run facts', async () => {
      const result = await enrich(['--format', 'json', ...inputs]);
      const doc = JSON.parse(result.stdout);
      expect(doc.records).toHaveLength(4);
      expect(doc.summaries.map((s: { verdict: string }) => s.verdict)).toEqual(['malicious', 'suspicious', 'unknown', 'unknown']);
      expect(doc.interrupted).toBe(false);
    });

    it('csv: a header and one row per record', async () => {
      const rows = parseCsv((await enrich(['--format', 'csv', ...inputs])).stdout, { columns: true }) as Array<Record<string, string>>;
      expect(rows.map((row) => [row.input, row.status, row.verdict, row.error_code])).toEqual([
        ['evil.example', 'ok', 'malicious', ''],
        ['odd.example', 'ok', 'suspicious', ''],
        ['example.org', 'not_found', 'unknown', ''],
        ['bad input', 'error', 'unknown', 'X_OBSERVABLE_INVALID'],
      ]);
    });

    it('table: a row per record and the tally', async () => {
      const { stdout } = await enrich(['--format', 'table', ...inputs]);
      // One provider: SUMMARY would repeat VERDICT, so it is left out.
      expect(stdout).toMatch(/^OBSERVABLE\s+TYPE\s+PROVIDER\s+STATUS/);
      expect(stdout).toMatch(/evil\.example\s+domain\s+blocklist\s+ok\s+malicious\s+high/);
      expect(stdout).toContain('3 observables: 1 malicious, 1 suspicious, 0 benign, 1 unknown; 0 failed lookups; 1 invalid input');
    });

    it('stix: a STIX 2.1 bundle whose every object has its required properties', async () => {
      const bundle = JSON.parse((await enrich(['--format', 'stix', ...inputs])).stdout);
      expect(bundle).toMatchObject({ type: 'bundle' });
      expect(bundle.id).toMatch(/^bundle--[0-9a-f-]{36}$/);
      expect(stixProblems(bundle.objects)).toEqual([]);
      const types = bundle.objects.map((o: { type: string }) => o.type).sort();
      expect(types).toEqual(['domain-name', 'domain-name', 'domain-name', 'identity', 'indicator', 'indicator', 'relationship', 'relationship']);
      expect(bundle.objects.find((o: { type: string; pattern?: string }) => o.pattern === "[domain-name:value = 'evil.example']")).toMatchObject({ indicator_types: ['malicious-activity'] });
    });
  });

  /** A run against a slow provider, sent `signal` 200 ms after `marker` first appears on stdout. */
  async function interruptedRun(name: string, format: string, subnet: number, marker: string, signal: NodeJS.Signals) {
    const slow = relative(tmp.dir, join(APP_DIR, 'test', 'fixtures', 'provider-slow'));
    const slowConfig = await tmp.write(name, `providers:\n  slow:\n    use: "${slow}"\n    options: { delayMs: 300 }\n    rateLimit: false\nconcurrency: 2\n`);
    const observables = Array.from({ length: 60 }, (_, i) => `11.0.${subnet}.${i + 1}`);
    const child = startCli(['--config', slowConfig, 'enrich', '--no-cache', '--format', format, ...observables], { cwd: tmp.dir });
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (!seen.includes(marker)) return;
      child.stdout!.off('data', onData);
      setTimeout(() => child.kill(signal), 200);
    };
    child.stdout!.on('data', onData);
    return collect(child, { timeoutMs: 20_000 });
  }

  it('stops cleanly on Ctrl-C: valid output so far, a summary, exit 130', async () => {
    // Interrupt once the first records are out (the document's opening comes before them).
    const result = await interruptedRun('slow.yaml', 'json', 0, '"observable"', 'SIGINT');
    expect(result.code).toBe(130);
    const doc = JSON.parse(result.stdout);
    expect(doc.interrupted).toBe(true);
    expect(doc.records.length).toBeGreaterThan(0);
    expect(doc.records.length).toBeLessThan(60);
    expect(doc.summaries).toHaveLength(doc.records.length);
    expect(result.stderr).toMatch(new RegExp(`x-enrich: interrupted after ${doc.records.length} of 60 observables`));
  });

  it('stops cleanly on SIGHUP (terminal closed) like SIGTERM: `enrich -f stix > out` leaves a closed, valid bundle, exit 130', async () => {
    // Hang up once the first objects after the identity are out.
    const result = await interruptedRun('slow-hup.yaml', 'stix', 1, '"ipv4-addr"', 'SIGHUP');
    expect(result.signal).toBeNull();
    expect(result.code).toBe(130);
    const bundle = JSON.parse(result.stdout);
    expect(bundle.type).toBe('bundle');
    expect(stixProblems(bundle.objects)).toEqual([]);
    const scos = bundle.objects.filter((o: { type: string }) => o.type === 'ipv4-addr');
    expect(scos.length).toBeGreaterThan(0);
    expect(scos.length).toBeLessThan(60);
    expect(result.stderr).toMatch(new RegExp(`x-enrich: interrupted after ${scos.length} of 60 observables`));
  });
});

describe('bad config', () => {
  it('lists every problem with its path, exit 1, no stack trace', async () => {
    const bad = await tmp.write(
      'bad.yaml',
      blocklistConfig(tmp.dir).replace('rateLimit: false', 'rateLimit: [{ requests: 0, per: forever }]') + 'concurrency: -1\nunknownKey: 1\nserver: { port: 99999 }\n',
    );
    const result = await runCli(['--config', bad, 'enrich', 'evil.example'], { cwd: tmp.dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    for (const path of ['providers.blocklist.rateLimit.0.requests', 'providers.blocklist.rateLimit.0.per', 'concurrency', 'server.port']) expect(result.stderr).toContain(path);
    expect(result.stderr).toContain('unknownKey');
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  it('names the plugin options that are wrong', async () => {
    const bad = await tmp.write('bad-options.yaml', blocklistConfig(tmp.dir).replace('listName: test list', 'listName: 42'));
    const result = await runCli(['--config', bad, 'config', 'validate'], { cwd: tmp.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('providers.blocklist.options.listName');
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  it('says what to do when there is no config file', async () => {
    const result = await runCli(['enrich', 'evil.example'], { cwd: tmp.dir + '/..' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/No config file: pass --config FILE or create x-enrich\.yaml/);
  });

  it('refuses a config without any enabled provider instance, rather than succeed after 0 lookups', async () => {
    const empty = await tmp.write('no-providers.yaml', 'providers: {}\n');
    const disabled = await tmp.write('all-disabled.yaml', blocklistConfig(tmp.dir).replace('    rateLimit: false', '    rateLimit: false\n    enabled: false'));
    for (const file of [empty, disabled]) {
      const run = await runCli(['--config', file, 'enrich', '--cache-dir', cacheDir, '--fail-on', 'suspicious', 'evil.example'], { cwd: tmp.dir });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`No provider instances are configured (or all are disabled) in ${file}`);
      expect(run.stderr).not.toMatch(NO_STACK);
      const validate = await runCli(['--config', file, 'config', 'validate'], { cwd: tmp.dir });
      expect(validate.code).toBe(1);
      expect(validate.stderr).toContain('No provider instances are configured (or all are disabled)');
    }
    // Listing what is configured is still an answer.
    const providers = await runCli(['--config', empty, 'providers'], { cwd: tmp.dir });
    expect(providers).toMatchObject({ code: 0, stdout: 'No provider instances are configured (or all are disabled).\n' });
  });

  it('fails `config validate` where `enrich` fails: a provider core cannot construct', async () => {
    const unbuildable = relative(tmp.dir, join(APP_DIR, 'test', 'fixtures', 'provider-unbuildable'));
    const file = await tmp.write('unbuildable.yaml', `providers:\n  u:\n    use: "${unbuildable}"\n    rateLimit: false\n`);
    const validate = await runCli(['--config', file, 'config', 'validate'], { cwd: tmp.dir });
    const enrich = await runCli(['--config', file, 'enrich', '--no-cache', 'example.org'], { cwd: tmp.dir });
    for (const result of [validate, enrich]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('X_PLUGIN_REGISTER_FAILED');
      expect(result.stderr).toContain('UnbuildableProvider has constructor parameter 0 without a token');
      expect(result.stderr).not.toMatch(NO_STACK);
    }
  });

  it('reports YAML syntax errors with line and column', async () => {
    const bad = await tmp.write('syntax.yaml', 'providers:\n  a: [1, 2\n');
    const result = await runCli(['--config', bad, 'config', 'validate'], { cwd: tmp.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line \d+, column \d+/);
  });
});

describe('x-enrich providers and config', () => {
  it('lists the instances with plugin, version, types and lifecycle', async () => {
    const result = await runCli(['--config', config, 'providers'], { cwd: tmp.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/blocklist\s+x-enrich-provider-dns-blocklist\s+0\.1\.0\s+domain,ipv4,ipv6,url\s+none\s+\S+\s+active/);
    const json = JSON.parse((await runCli(['--config', config, 'providers', '--format', 'json'], { cwd: tmp.dir })).stdout);
    expect(json[0]).toMatchObject({ name: 'blocklist', plugin: 'dns-blocklist', lifecycle: { status: 'active' } });
  });

  it('validates, shows with secrets redacted, and prints the JSON Schema', async () => {
    const validate = await runCli(['--config', config, 'config', 'validate'], { cwd: tmp.dir });
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('valid; 1 provider instance: blocklist (x-enrich-provider-dns-blocklist 0.1.0)');
    const show = await runCli(['--config', config, 'config', 'show'], { cwd: tmp.dir });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('token: "[REDACTED]"');
    expect(show.stdout + show.stderr).not.toContain('e2e-secret-token-0123456789');
    const schema = JSON.parse((await runCli(['config', 'schema'], { cwd: tmp.dir })).stdout);
    expect(schema.properties).toHaveProperty('providers');
    expect(schema.properties).toHaveProperty('server');
  });
});

describe('x-enrich cache', () => {
  it('says there is nothing to do when the config turns caching off or keeps it in memory', async () => {
    const off = await tmp.write('cache-off.yaml', blocklistConfig(tmp.dir, 'cache: false\n'));
    const memory = await tmp.write('cache-memory.yaml', blocklistConfig(tmp.dir, 'cache: { store: memory }\n'));
    const offResult = await runCli(['--config', off, 'cache', 'prune'], { cwd: tmp.dir });
    expect(offResult).toMatchObject({ code: 0, stdout: 'Caching is off in the config (cache: false); there is nothing to prune.\n' });
    expect((await runCli(['--config', memory, 'cache', 'clear'], { cwd: tmp.dir })).stdout).toMatch(/caches in memory.*nothing to clear/);
    const broken = await runCli(['--config', join(tmp.dir, 'missing.yaml'), 'cache', 'clear'], { cwd: tmp.dir });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/does not exist/);
  });
});
