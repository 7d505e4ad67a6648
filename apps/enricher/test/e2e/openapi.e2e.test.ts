import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { startSimulator } from '@x/virustotal-simulator';
import { APP_DIR, assertBuilt, collect, listeningUrl, startCli, tempDir } from '../helpers/cli.js';

// The service's own OpenAPI document against the service: Redocly's linter on the document, and
// every live answer validated against it (not against our zod schemas: against what we publish).
const TOKEN = 'openapi-e2e-token-0123456789abcdef';
const KEY = 'openapi-e2e-simulator-key';
let simulator: Awaited<ReturnType<typeof startSimulator>>;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let child: ChildProcess;
let base: string;
let document: Record<string, unknown>;

beforeAll(async () => {
  assertBuilt();
  simulator = await startSimulator({ port: 0, apiKeys: [KEY] });
  tmp = await tempDir('x-enrich-openapi-');
  const config = await tmp.write(
    'x-enrich.yaml',
    `providers:
  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: "${KEY}", baseUrl: "${simulator.v3Url}" }, rateLimit: false }
  vt2: { use: "@x/provider-virustotal-v2", options: { apiKey: "${KEY}", apiUrl: "${simulator.v2Url}" }, rateLimit: false }
`,
  );
  child = startCli(['--config', config, '--log-level', 'warn', 'serve', '--port', '0'], { cwd: tmp.dir, env: { X_ENRICH_TOKEN: TOKEN } });
  void collect(child, { timeoutMs: 120_000 }).catch(() => undefined);
  base = await listeningUrl(child);
  document = (await (await fetch(`${base}/docs/json`)).json()) as Record<string, unknown>;
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await simulator?.close();
  await tmp?.cleanup();
});

/**
 * OpenAPI 3.0 schema -> JSON Schema, as the spec reads: `nullable: true` adds null to `type`
 * only. It does not add null to an `enum` (OpenAPI 3.0.3's clarification), so a nullable enum
 * that forgets null fails here exactly as in a strict OpenAPI validator.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'nullable' || key === 'example' || key === 'xml' || key === 'discriminator') continue;
    out[key] = key === 'enum' ? value : toJsonSchema(value);
  }
  if ((node as Record<string, unknown>).nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

function validator(pointer: string) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema(toJsonSchema(document) as object, 'openapi.json');
  return ajv.compile({ $ref: `openapi.json#${pointer}` });
}
const escape = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');
const responsePointer = (path: string, method: string, status: string) => `/paths/${escape(path)}/${method}/responses/${status}/content/${escape('application/json')}/schema`;
const auth = { authorization: `Bearer ${TOKEN}` };

describe('the OpenAPI document', () => {
  it('has servers, a license, named components.schemas, an operationId and described responses on every operation', () => {
    expect(document.servers).toEqual([{ url: '/', description: 'This service' }]);
    expect((document.info as { license?: unknown }).license).toMatchObject({ name: 'MIT' });
    const schemas = Object.keys((document.components as { schemas: object }).schemas);
    expect(schemas).toEqual(expect.arrayContaining(['ResultRecord', 'ObservableSummary', 'ProviderInfo', 'Health', 'Error']));
    const operations = Object.entries(document.paths as Record<string, Record<string, { operationId?: string; responses: Record<string, { description?: string }> }>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ where: `${method} ${path}`, ...operation })),
    );
    expect(operations.map((operation) => operation.where).sort()).toEqual(['get /healthz', 'get /metrics', 'get /v1/providers', 'post /mcp', 'post /v1/enrich']);
    for (const operation of operations) {
      expect(operation.operationId, operation.where).toBeTruthy();
      for (const [status, response] of Object.entries(operation.responses)) expect(response.description, `${operation.where} ${status}`).toBeTruthy();
    }
    expect(Object.keys((document.paths as Record<string, { post: { responses: object } }>)['/v1/enrich']!.post.responses)).toEqual(expect.arrayContaining(['200', '4XX', '5XX']));
  });

  it('passes `redocly lint` (recommended rules, offline) with no errors; its one warning is /healthz having no 4XX answer', async () => {
    const file = await tmp.write('openapi.json', JSON.stringify(document));
    const redocly = join(APP_DIR, 'node_modules', '.bin', 'redocly');
    const result = await promisify(execFile)(redocly, ['lint', file, '--format', 'json'], {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      timeout: 120_000,
    }).catch((error: { stdout?: string; stderr?: string }) => error);
    const report = JSON.parse(result.stdout ?? '{}') as { totals?: { errors: number; warnings: number }; problems?: Array<{ ruleId: string; message: string }> };
    // /healthz answers 200 or 503 and nothing else: documenting a 4XX it never sends would be false.
    expect(report.problems?.map((problem) => `${problem.ruleId} ${JSON.stringify((problem as { location?: Array<{ pointer?: string }> }).location?.[0]?.pointer)}`), result.stderr).toEqual([
      'operation-4xx-response "#/paths/~1healthz/get/responses"',
    ]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 1 });
  });

  it('describes every live POST /v1/enrich answer: all statuses, nullable fields, errors', async () => {
    // ok (malicious, benign), not_found, pending, unsupported (IPv6 in v2), error (not an observable), skipped (a private address).
    const observables = [`000000001062000076${'0'.repeat(46)}`, '198.51.100.7', '192.0.2.1', `000000002000000000${'0'.repeat(14)}`, '2001:db8:0:4:70::1', 'not an observable!!', '10.1.2.3'];
    const response = await fetch(`${base}/v1/enrich`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ observables }) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { records: Array<{ status: string }> };
    expect(new Set(body.records.map((record) => record.status))).toEqual(new Set(['ok', 'not_found', 'pending', 'unsupported', 'error', 'skipped']));
    const validate = validator(responsePointer('/v1/enrich', 'post', '200'));
    expect(validate(body), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);

    const refused = await fetch(`${base}/v1/enrich`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{"observables":[]}' });
    expect(refused.status).toBe(400);
    const validateError = validator(responsePointer('/v1/enrich', 'post', '4XX'));
    expect(validateError(await refused.json()), JSON.stringify(validateError.errors)).toBe(true);
  });

  it('describes /v1/providers and /healthz as they behave (/healthz needs no token)', async () => {
    const providers = await (await fetch(`${base}/v1/providers`, { headers: auth })).json();
    const validateProviders = validator(responsePointer('/v1/providers', 'get', '200'));
    expect(validateProviders(providers), JSON.stringify(validateProviders.errors)).toBe(true);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const validateHealth = validator(responsePointer('/healthz', 'get', '200'));
    expect(validateHealth(await health.json()), JSON.stringify(validateHealth.errors)).toBe(true);
    expect((document.paths as Record<string, { get: { security?: unknown } }>)['/healthz']!.get.security).toEqual([]);

    const unauthorized = await fetch(`${base}/v1/providers`);
    expect(unauthorized.status).toBe(401);
    const validateError = validator(responsePointer('/v1/providers', 'get', '401'));
    expect(validateError(await unauthorized.json())).toBe(true);
  });
});

describe('the API page', () => {
  it('serves Swagger UI at /docs with every asset it loads, without a token', async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const pageUrl = page.url;
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => new URL(match[1]!, pageUrl).href).filter((url) => url.startsWith(base));
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      const response = await fetch(asset);
      expect(response.status, asset).toBe(200);
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
    // The initializer names the document the page loads.
    const initializer = await fetch(`${base}/docs/static/swagger-initializer.js`);
    expect(initializer.status).toBe(200);
  });

  it('answers an unknown docs path with a 404 that points to /docs', async () => {
    const response = await fetch(`${base}/docs/nothing-here`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('The API page is /docs');
  });
});
