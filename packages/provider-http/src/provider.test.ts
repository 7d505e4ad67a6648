import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnricher, type ResultRecord, type TraceStep } from '@x/core';
import { captureLogger, createFakeClock, loadTestProvider } from '@x/core/testing';
import plugin from './plugin.js';
import { zHttpProviderOptions } from './options.js';

// A small internal API on loopback, and instances described against it in config form.
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
const seen: Seen[] = [];
let base = '';
let tokenCalls = 0;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk));
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    const url = new URL(req.url!, 'http://x');
    const send = (status: number, value: unknown, type = 'application/json') => res.writeHead(status, { 'content-type': type }).end(typeof value === 'string' ? value : JSON.stringify(value));
    if (url.pathname === '/oauth/token') {
      tokenCalls++;
      const basic = Buffer.from(req.headers.authorization?.replace(/^Basic /, '') ?? '', 'base64').toString();
      if (basic !== 'client-1:client-secret-0123456789' || !body.includes('grant_type=client_credentials')) return send(401, { error: 'invalid_client' });
      return send(200, { access_token: `token-${tokenCalls}`, token_type: 'Bearer', expires_in: 3600 });
    }
    if (url.pathname === '/api/lookup') {
      if (req.headers.authorization !== `Bearer token-${tokenCalls}` && url.searchParams.get('auth') !== 'no') return send(401, { error: 'bad token' });
      const q = url.searchParams.get('q') ?? '';
      if (q === 'missing.example') return send(404, { error: 'no such indicator' });
      if (q === 'html.example') return send(200, '<html>maintenance</html>', 'text/html');
      if (q === 'big.example') return send(200, { padding: 'x'.repeat(4096) });
      if (q === 'typed.example') return send(200, { id: 'i-1', score: 'high' });
      if (q === 'redirect.example') return res.writeHead(302, { location: 'http://elsewhere.invalid/' }).end();
      if (q === 'queued.example') return send(200, { id: 'i-9', state: 'queued' });
      if (q === 'crlf.example') return send(200, { id: 'i-1\r\nx-injected: yes', score: 1, state: 'done' });
      return send(200, { id: `i-${q.length}`, score: q.startsWith('bad') ? 90 : 10, state: 'done', seen: 1_700_000_000 });
    }
    const details = /^\/api\/details\/(.+)$/.exec(url.pathname);
    if (details) return send(200, { id: decodeURIComponent(details[1]!), tags: ['botnet', 'c2'], family: 'Emotet' });
    send(404, { error: 'no route' });
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** An internal API in one config block: a lookup, then a details call using the lookup's id. */
function internalApi(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Internal intel',
    baseUrl: `${base}/api`,
    auth: { type: 'oauth2', tokenUrl: `${base}/oauth/token`, clientId: 'client-1', clientSecret: 'client-secret-0123456789' },
    requests: {
      domain: {
        steps: [
          { name: 'lookup', path: '/lookup', query: { q: '{{value}}' }, headers: { 'x-observable-type': '{{type}}' } },
          { name: 'details', path: '/details/{{fields.id}}' },
        ],
      },
    },
    fields: {
      id: { path: 'id', type: 'string', from: 'lookup', internal: true },
      score: { path: 'score', type: 'number', from: 'lookup' },
      state: { path: 'state', type: 'string', from: 'lookup' },
      seen: { path: 'seen', type: 'date', from: 'lookup' },
      tags: { path: 'tags', type: 'list' },
      family: { path: 'family', type: 'string' },
    },
    pending: { when: { field: 'state', op: 'eq', value: 'queued' } },
    rules: [
      { name: 'high-score', when: { all: [{ field: 'score', op: 'gte', value: 80 }, { field: 'tags', op: 'contains', value: 'c2' }] }, verdict: 'malicious', confidence: 'high' },
      { when: { field: 'score', op: 'gte', value: 50 }, verdict: 'suspicious' },
    ],
    otherwise: { verdict: 'benign', confidence: 'low' },
    entities: [{ type: 'indicator', name: 'Indicator of {{type}}: {{value}}', fields: ['family'] }],
    maxResponseBytes: 1024,
    ...overrides,
  };
}

async function run(inputs: string[], options = internalApi(), trace?: (step: TraceStep) => void): Promise<ResultRecord[]> {
  const loaded = loadTestProvider(plugin, { name: 'intel', options, config: { cache: false, rateLimit: false, resilience: { retry: false, circuitBreaker: false } } });
  const enricher = createEnricher({ providers: [loaded], cacheStore: false, logger: captureLogger(), clock: createFakeClock(Date.UTC(2026, 11, 1)) });
  return (await enricher.enrich(inputs, trace ? { trace } : {})).records;
}

describe('@x/provider-http: an internal API in one config block', () => {
  it('runs the steps in order, the second using a field of the first; OAuth2 token fetched once and reused', async () => {
    seen.length = 0;
    tokenCalls = 0;
    const records = await run(['bad.example', 'good.example']);
    expect(records.map((r) => [r.status, r.verdict, r.confidence])).toEqual([
      ['ok', 'malicious', 'high'],
      ['ok', 'benign', 'low'],
    ]);
    expect(records[0]!.extracted).toEqual({ score: 90, state: 'done', seen: '2023-11-14T22:13:20.000Z', tags: ['botnet', 'c2'], family: 'Emotet' });
    expect(records[0]!.reasons[0]).toEqual({ rule: 'high-score', message: expect.stringContaining('score>=80'), values: { score: 90, tags: ['botnet', 'c2'] } });
    expect(records[0]!.entities).toEqual([{ type: 'indicator', name: 'Indicator of domain: bad.example', fields: { family: 'Emotet' } }]);
    expect(tokenCalls).toBe(1);
    const lookups = seen.filter((s) => s.url.startsWith('/api/lookup'));
    expect(lookups.map((s) => [s.headers['x-observable-type'], s.headers.authorization])).toEqual([
      ['domain', 'Bearer token-1'],
      ['domain', 'Bearer token-1'],
    ]);
    expect(seen.filter((s) => s.url.startsWith('/api/details/')).map((s) => s.url)).toEqual([`/api/details/i-${'bad.example'.length}`, `/api/details/i-${'good.example'.length}`]);
  });

  it('encodes values for their place: a path segment and a query value cannot change the request', async () => {
    seen.length = 0;
    await run(['hxxp://bad[.]example/a?b=c#d'.replace('hxxp', 'http').replace('[.]', '.')], internalApi({ requests: { url: { steps: [{ name: 'lookup', path: '/lookup', query: { q: '{{value}}', auth: 'no' } }, { name: 'details', path: '/details/{{value}}' }] } } }));
    const lookup = seen.find((s) => s.url.startsWith('/api/lookup'))!;
    expect(new URL(lookup.url, 'http://x').searchParams.get('q')).toBe('http://bad.example/a?b=c#d');
    expect(seen.find((s) => s.url.startsWith('/api/details/'))!.url).toBe(`/api/details/${encodeURIComponent('http://bad.example/a?b=c#d')}`);
  });

  it('not found, pending, a non-JSON body, a too large body, a wrong type, a redirect: records with clear codes, never a crash', async () => {
    const records = await run(['missing.example', 'queued.example', 'html.example', 'big.example', 'typed.example', 'redirect.example']);
    expect(records.map((r) => [r.status, r.error?.code ?? null])).toEqual([
      ['not_found', null],
      ['pending', null],
      ['error', 'X_UPSTREAM_BAD_RESPONSE'],
      ['error', 'X_UPSTREAM_BAD_RESPONSE'],
      ['error', 'X_UPSTREAM_BAD_RESPONSE'],
      ['error', 'X_UPSTREAM_HTTP'],
    ]);
    expect(records[1]!.reasons[0]).toMatchObject({ rule: 'state=="queued"', values: { state: 'queued' } });
    expect(records[3]!.error!.message).toContain('1024 bytes');
    expect(records[4]!.error!.message).toContain('field score (score) should be a number, got string "high"');
    expect(JSON.stringify(records)).not.toContain('client-secret-0123456789');
  });

  it('refuses a header value with CR/LF (here from a response) without sending it', async () => {
    seen.length = 0;
    const options = internalApi({
      requests: { domain: { steps: [{ name: 'lookup', path: '/lookup', query: { q: '{{value}}' } }, { name: 'details', path: '/details/x', headers: { 'x-lookup-id': '{{fields.id}}' } }] } },
    });
    const [record] = await run(['crlf.example'], options);
    expect(record).toMatchObject({ status: 'error', error: { code: 'X_UPSTREAM_BAD_RESPONSE' } });
    expect(record!.error!.message).toMatch(/x-lookup-id would contain a control character/);
    expect(seen.some((s) => s.url.startsWith('/api/details/'))).toBe(false);
    expect(seen.some((s) => s.headers['x-injected'] !== undefined)).toBe(false);
  });

  it('a template naming a field of a later step is refused when the config loads', () => {
    const options = internalApi({ requests: { domain: { steps: [{ name: 'lookup', path: '/lookup', query: { q: '{{value}}' }, headers: { 'x-tag': '{{fields.id}}' } }] } }, fields: { id: { path: 'id', type: 'string' } } });
    expect(() => loadTestProvider(plugin, { name: 'x', options })).toThrow(/unknown template variable \{\{fields\.id\}\}/);
  });

  it('a dry run traces every step: request (no secret), response, fields, rules, outcome', async () => {
    const steps: TraceStep[] = [];
    await run(['bad.example'], internalApi(), (step) => steps.push(step));
    expect(steps.map((s) => s.kind)).toEqual(['request', 'response', 'field', 'field', 'field', 'field', 'request', 'response', 'field', 'field', 'rule', 'outcome']);
    expect(steps[0]!.summary).toBe('lookup: GET /lookup');
    expect(steps.find((s) => s.kind === 'rule')!.detail).toMatchObject({ rule: 'high-score', holds: true, values: { score: 90, tags: ['botnet', 'c2'] } });
    expect(JSON.stringify(steps)).not.toMatch(/client-secret|token-\d/);
  });
});

describe('options checked when the config loads', () => {
  const problems = (options: Record<string, unknown>) => {
    const parsed = zHttpProviderOptions.safeParse(options);
    return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('accepts the internal API and every recipe with a key', () => {
    expect(problems(internalApi())).toEqual([]);
    for (const recipe of ['abuseipdb', 'greynoise', 'urlhaus', 'threatfox', 'otx']) expect(problems({ recipe, apiKey: 'k' })).toEqual([]);
    expect(problems({ recipe: 'shodan-internetdb' })).toEqual([]);
  });

  it('names each mistake with its path', () => {
    expect(problems(internalApi({ requests: { domain: { steps: [{ name: 'a', path: '/x/{{valu}}' }] } } }))).toContainEqual(expect.stringMatching(/^requests\.domain\.steps\.0\.path: unknown template variable \{\{valu\}\}/));
    expect(problems(internalApi({ fields: { score: { path: 'a.[b', type: 'number' } } }))).toContainEqual(expect.stringMatching(/^fields\.score\.path: not a JMESPath expression/));
    expect(problems(internalApi({ rules: [{ when: { field: 'scor', op: 'gte', value: 1 }, verdict: 'malicious' }] }))).toContainEqual(expect.stringMatching(/^rules\.0\.when: names no field scor/));
    expect(problems({ recipe: 'abuseipdb' })).toContainEqual(expect.stringMatching(/^auth/));
    expect(problems(internalApi({ baseUrl: 'http://intel.example/api' }))).toContainEqual(expect.stringMatching(/^baseUrl: must use https/));
    expect(problems(internalApi({ rules: [{ when: { field: 'score', op: 'matches', value: '(' }, verdict: 'malicious' }] }))).toContainEqual(expect.stringMatching(/^rules\.0\.when/));
  });

  it('a recipe with overrides on top: keys merge, lists replace', () => {
    const parsed = zHttpProviderOptions.parse({ recipe: 'abuseipdb', apiKey: 'k', rules: [{ when: { field: 'abuseConfidenceScore', op: 'gte', value: 50 }, verdict: 'malicious' }], fields: { isp: { path: 'data.isp', type: 'string', internal: true } } });
    expect(parsed.rules).toHaveLength(1);
    expect(parsed.fields.isp!.internal).toBe(true);
    expect(parsed.fields.abuseConfidenceScore!.path).toBe('data.abuseConfidenceScore');
    expect(parsed.auth).toEqual({ type: 'header', name: 'Key', value: 'k' });
  });

  it('the instance handles the types its requests name, with the recipe\'s quota and TTLs', () => {
    const loaded = loadTestProvider(plugin, { name: 'abuse', options: { recipe: 'abuseipdb', apiKey: 'k' } });
    expect(loaded.manifest.observableTypes).toEqual(['ipv4', 'ipv6']);
    expect(loaded.manifest.defaultRateLimits).toEqual([{ requests: 1000, perMs: 86_400_000 }]);
    expect(loaded.manifest.defaultCacheTtlMs.ipv4).toBe(6 * 3_600_000);
    expect(loaded.manifest.displayName).toBe('AbuseIPDB');
  });
});
