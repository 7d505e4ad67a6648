import type { ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zObservableSummary, zResultRecord } from '@x/core';
import { APP_DIR, assertBuilt, blocklistConfig, collect, runCli, startServe as startServeProcess, tempDir } from '../helpers/cli.js';
import { promtoolAvailable, promtoolCheckMetrics } from '../helpers/promtool.js';

const hasPromtool = promtoolAvailable();

// `x-enrich serve` as a process on an ephemeral loopback port, called over HTTP.
const TOKEN = 'serve-e2e-token-0123456789abcdef';
let tmp: Awaited<ReturnType<typeof tempDir>>;
let child: ChildProcess;
let exited: ReturnType<typeof collect>;
let base: string;

const startServe = (config: string, env: Record<string, string> = {}) => startServeProcess(config, { cwd: tmp.dir, env });
const others: ChildProcess[] = [];

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir();
  const config = await tmp.write('x-enrich.yaml', blocklistConfig(tmp.dir, 'server:\n  maxObservables: 3\n  bodyLimit: 2048\n'));
  const started = startServe(config, { X_ENRICH_TOKEN: TOKEN });
  child = started.child;
  exited = started.exited;
  base = await started.base;
});

afterAll(async () => {
  for (const started of [child, ...others]) if (started && started.exitCode === null && started.signalCode === null) started.kill('SIGKILL');
  await tmp?.cleanup();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const post = (body: unknown, headers: Record<string, string> = auth) =>
  fetch(`${base}/v1/enrich`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('x-enrich serve', () => {
  it('enriches: records and summaries in input order', async () => {
    const response = await post({ observables: ['evil.example', 'example.org', 'bad input'] });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { records: unknown[]; summaries: unknown[] };
    const records = body.records.map((record) => zResultRecord.parse(record));
    const summaries = body.summaries.map((summary) => zObservableSummary.parse(summary));
    expect(records.map((record) => [record.input, record.status, record.verdict])).toEqual([
      ['evil.example', 'ok', 'malicious'],
      ['example.org', 'not_found', 'unknown'],
      ['bad input', 'error', 'unknown'],
    ]);
    expect(summaries[0]).toMatchObject({ verdict: 'malicious', decidedBy: ['blocklist'] });
    expect(records[1]!.reasons[0]!.message).toBe('example.org is not on test list');
  });

  it('requires the bearer token on /v1 and /metrics, not on /healthz', async () => {
    const missing = await post({ observables: ['evil.example'] }, {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expect(await missing.json()).toMatchObject({ error: { code: 'X_UNAUTHORIZED' } });
    expect((await post({ observables: ['evil.example'] }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/v1/providers`)).status).toBe(401);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', providers: { blocklist: {} } });
  });

  it('refuses too many observables and too large bodies with 413, bad bodies with 400', async () => {
    const many = await post({ observables: ['a.example', 'b.example', 'c.example', 'd.example'] });
    expect(many.status).toBe(413);
    expect(await many.json()).toMatchObject({ error: { code: 'X_TOO_MANY_OBSERVABLES' } });
    const large = await post({ observables: ['x'.repeat(4000)] });
    expect(large.status).toBe(413);
    expect(await large.json()).toMatchObject({ error: { code: 'X_REQUEST_TOO_LARGE' } });
    const invalid = await post({ observables: 'evil.example' });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { code: 'X_REQUEST_INVALID' } });
    expect((await post('{not json')).status).toBe(400);
    const unknown = await post({ observables: ['evil.example'], providers: ['vt9'] });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { code: 'X_UNKNOWN_PROVIDER' } });
  });

  it('lists providers, serves Prometheus metrics and the OpenAPI document', async () => {
    const providers = (await (await fetch(`${base}/v1/providers`, { headers: auth })).json()) as { providers: Array<{ name: string }> };
    expect(providers.providers.map((provider) => provider.name)).toEqual(['blocklist']);
    const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(/x_enrich_lookups_total\{instance="blocklist",type="domain",status="ok",cache="miss"\} \d+/);
    expect(metrics).toContain('x_enrich_lookup_duration_seconds_bucket');
    expect(metrics).toMatch(/x_enrich_circuit_state\{instance="blocklist",state="closed"\} 1/);
    expect(metrics).toMatch(/x_enrich_http_server_requests_total\{route="\/v1\/enrich",method="POST",status="401"\} \d+/);
    expect(metrics).toMatch(/x_enrich_upstream_calls_total\{instance="blocklist",outcome="ok"\} \d+/);
    // Prometheus's own linter on what a scrape gets (skipped only outside CI without promtool).
    if (hasPromtool) expect(await promtoolCheckMetrics(metrics)).toEqual({ code: 0, output: '' });
    const openapi = (await (await fetch(`${base}/docs/json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/enrich', '/v1/providers', '/healthz', '/metrics']));
  });

  it('shuts down gracefully on SIGTERM (exit 0)', async () => {
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain(TOKEN);
  });
});

describe('x-enrich serve refuses to start', () => {
  const NO_STACK = /\n\s+at .+:\d+:\d+/;

  it('on a port in use: one line naming host:port and what to do, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const config = await tmp.write('in-use.yaml', blocklistConfig(tmp.dir));
      const result = await runCli(['--config', config, 'serve', '--port', String(port)], { cwd: tmp.dir });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`x-enrich: serve: cannot listen on 127.0.0.1:${port}: the port is already in use`);
      expect(result.stderr).toContain('--port');
      expect(result.stderr).not.toMatch(/unexpected error|This is a bug/);
      expect(result.stderr).not.toMatch(NO_STACK);
    } finally {
      blocker.close();
    }
  });

  it('with a weak X_ENRICH_TOKEN, as with a weak server.token: exit 1, the token never echoed', async () => {
    const weak = 'weak-tok3n';
    const config = await tmp.write('env-token.yaml', blocklistConfig(tmp.dir));
    const result = await runCli(['--config', config, 'serve', '--port', '0'], { cwd: tmp.dir, env: { X_ENRICH_TOKEN: weak } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/X_ENRICH_TOKEN: use at least 16 characters/);
    expect(result.stderr).not.toContain(weak);
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  it('without any enabled provider instance: exit 1', async () => {
    const config = await tmp.write('none-enabled.yaml', blocklistConfig(tmp.dir).replace('    rateLimit: false', '    rateLimit: false\n    enabled: false'));
    const result = await runCli(['--config', config, 'serve', '--port', '0'], { cwd: tmp.dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/No provider instances are configured \(or all are disabled\)/);
  });
});

describe('x-enrich serve shutdown', () => {
  it('answers requests still in flight when shutdownGrace runs out with 503 X_SHUTTING_DOWN, not a dropped connection', async () => {
    const slow = relative(tmp.dir, join(APP_DIR, 'test', 'fixtures', 'provider-slow'));
    const config = await tmp.write(
      'slow-serve.yaml',
      `providers:\n  slow:\n    use: "${slow}"\n    options: { delayMs: 30000 }\n    rateLimit: false\nserver:\n  shutdownGrace: 300ms\n`,
    );
    const serve = startServe(config, { X_ENRICH_TEST_SLOW_ANNOUNCE: '1' });
    others.push(serve.child);
    let stderr = '';
    const inFlight = new Promise<void>((resolve) =>
      serve.child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('slow-provider: lookup of 11.0.0.1 started')) resolve();
      }),
    );
    const url = await serve.base;
    const response = fetch(`${url}/v1/enrich`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ observables: ['11.0.0.1'] }) });
    // Once the request reached the provider (which answers after 30 s), stop the service.
    await inFlight;
    const stoppedAt = Date.now();
    serve.child.kill('SIGTERM');
    const answered = await response;
    expect(answered.status).toBe(503);
    expect(await answered.json()).toMatchObject({ error: { code: 'X_SHUTTING_DOWN' } });
    const result = await serve.exited;
    expect(result.code).toBe(0);
    // The grace, not the provider's 30 s, decided when it ended.
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(result.stderr).toMatch(/shutdownGrace ran out/);
  });
});
