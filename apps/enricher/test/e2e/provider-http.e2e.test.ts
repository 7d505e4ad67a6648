import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zResultRecord } from '@x/core';
import { assertBuilt, runCli, tempDir } from '../helpers/cli.js';

// `@x/provider-http` as the app ships it: `use: "@x/provider-http"` + a recipe, from a config
// file, against a local server shaped like Shodan InternetDB and a keyed API like AbuseIPDB.
let server: Server;
let base = '';
let tmp: Awaited<ReturnType<typeof tempDir>>;
let config: string;
const KEY = 'abuse-e2e-key-SECRET-0123456789';

beforeAll(async () => {
  assertBuilt();
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/internetdb/203.0.113.66') return send(200, { ip: '203.0.113.66', ports: [443], cpes: [], hostnames: [], tags: ['c2'], vulns: [] });
    if (url.pathname.startsWith('/internetdb/')) return send(404, { detail: 'No information available' });
    if (url.pathname === '/abuseipdb/check') {
      if (req.headers.key !== KEY) return send(401, { errors: [{ detail: 'Authentication failed.', status: 401 }] });
      return send(200, { data: { ipAddress: url.searchParams.get('ipAddress'), abuseConfidenceScore: 88, totalReports: 9, countryCode: 'NL', isWhitelisted: false, isTor: false } });
    }
    send(404, { detail: 'no route' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tmp = await tempDir('x-enrich-http-');
  config = await tmp.write(
    'x-enrich.yaml',
    `providers:
  internetdb:
    use: "@x/provider-http"
    options: { recipe: shodan-internetdb, baseUrl: "${base}/internetdb" }
  abuse:
    use: "@x/provider-http"
    options: { recipe: abuseipdb, apiKey: "\${ABUSE_KEY}", baseUrl: "${base}/abuseipdb" }
    rateLimit: false
`,
  );
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await tmp?.cleanup();
});

const env = { ABUSE_KEY: KEY };

describe('@x/provider-http in x-enrich', () => {
  it('enriches with recipes from the config file; the recipe quota shows in providers', async () => {
    const result = await runCli(['--config', config, 'enrich', '--no-cache', '--format', 'jsonl', '203.0.113.66', '192.0.2.1'], { cwd: tmp.dir, env });
    expect(result.stderr).not.toContain(KEY);
    expect(result.code).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => zResultRecord.parse(JSON.parse(line)));
    expect(records.map((r) => `${r.provider.name} ${r.input} ${r.status} ${r.verdict}`)).toEqual([
      'internetdb 203.0.113.66 ok malicious',
      'abuse 203.0.113.66 ok malicious',
      'internetdb 192.0.2.1 not_found unknown',
      'abuse 192.0.2.1 ok malicious',
    ]);
    const providers = await runCli(['--config', config, 'providers', '--format', 'json'], { cwd: tmp.dir, env });
    const listed = JSON.parse(providers.stdout) as Array<{ name: string; displayName: string; types: string[]; rateLimit: Array<{ requests: number }> }>;
    expect(listed.find((p) => p.name === 'abuse')).toMatchObject({ displayName: 'AbuseIPDB', types: ['ipv4', 'ipv6'] });
    expect(listed.find((p) => p.name === 'internetdb')!.types).toEqual(['ipv4']);
  });

  it('providers test shows each step and the record, without the key', async () => {
    const result = await runCli(['--config', config, 'providers', 'test', 'abuse', '203.0.113.66'], { cwd: tmp.dir, env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('request  check: GET /check');
    expect(result.stdout).toContain('query {"ipAddress":"203.0.113.66","maxAgeInDays":"90"}');
    expect(result.stdout).toContain('response check: HTTP 200');
    expect(result.stdout).toContain('field    abuseConfidenceScore = 88');
    expect(result.stdout).toContain('rule     abuseConfidenceScore>=75: holds');
    expect(result.stdout).toContain('outcome  found: malicious (high)');
    expect(result.stdout).toContain('"verdict": "malicious"');
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });

  it('config validate names a template mistake with its path', async () => {
    const bad = await tmp.write('bad.yaml', `providers:\n  x:\n    use: "@x/provider-http"\n    options:\n      name: X\n      baseUrl: "${base}/x"\n      requests: { domain: { steps: [{ name: a, path: "/q/{{valeu}}" }] } }\n`);
    const result = await runCli(['--config', bad, 'config', 'validate'], { cwd: tmp.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('providers.x.options.requests.domain.steps.0.path: unknown template variable {{valeu}}');
  });
});
