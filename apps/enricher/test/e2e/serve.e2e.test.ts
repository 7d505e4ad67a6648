import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zObservableSummary, zResultRecord } from '@x/core';
import { assertBuilt, blocklistConfig, collect, startCli, tempDir } from '../helpers/cli.js';

// `x-enrich serve` as a process on an ephemeral loopback port, called over HTTP.
const TOKEN = 'serve-e2e-token-0123456789abcdef';
let tmp: Awaited<ReturnType<typeof tempDir>>;
let child: ChildProcess;
let exited: ReturnType<typeof collect>;
let base: string;

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir();
  const config = await tmp.write('x-enrich.yaml', blocklistConfig(tmp.dir, 'server:\n  maxObservables: 3\n  bodyLimit: 2048\n'));
  child = startCli(['--config', config, '--log-level', 'warn', 'serve', '--port', '0'], { cwd: tmp.dir, env: { X_ENRICH_TOKEN: TOKEN } });
  exited = collect(child, { timeoutMs: 60_000 });
  base = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
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
