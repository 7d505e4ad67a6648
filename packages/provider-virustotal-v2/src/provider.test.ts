import { createHttpClient, createMemoryRateLimitStore, createRateLimiter, isUpstreamError, isXEnrichError, systemClock, type EnrichContext, type Observable, type ProviderOutcome, type RateLimiter } from '@x/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { zVirusTotalV2Options } from './options.js';
import { VirusTotalV2Provider } from './provider.js';
import { captureLogger, errorText } from '@x/core/testing';
import { sendJson, startFakeV2 } from '../test/fake-v2-server.js';
import { loadFixture } from '../test/load-fixture.js';

const API_KEY = 'v2-secret-key-0123456789abcdef';

const detected = loadFixture('file_report_detected_65of71.json');
const batch = loadFixture<Array<Record<string, unknown>>>('file_report_batch_3_resources.json');
const notFound = (resource: string) => ({ response_code: 0, resource, verbose_msg: 'The requested resource is not among the finished, queued or pending scans' });

/** Answers file/report like VirusTotal: an object for one resource, an array for several. */
function fileReport(resources: string[]) {
  const answers = resources.map((resource) => {
    const known = [detected, ...batch].find((report) => [report.md5, report.sha1, report.sha256].includes(resource.toLowerCase()));
    return known ? { ...known, resource } : notFound(resource);
  });
  return answers.length === 1 ? answers[0] : answers;
}

let server: Awaited<ReturnType<typeof startFakeV2>>;
let logger: ReturnType<typeof captureLogger>;

function context(): EnrichContext {
  return { signal: new AbortController().signal, logger };
}

function provider(options: Record<string, unknown> = {}) {
  return new VirusTotalV2Provider(zVirusTotalV2Options.parse({ apiKey: API_KEY, apiUrl: server.apiUrl, ...options }), createHttpClient({ logger }), systemClock);
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

// A fresh server (a fresh port) for every test: a request a test gave up on (a timeout, an
// abort) may still reach the server after that test ended, and on a loaded machine it did,
// landing in the next test's `seen` ("two requests where one was expected"). A late request
// now reaches only its own test's server, which is closed.
afterEach(() => server.close());
beforeEach(async () => {
  server = await startFakeV2(() => undefined);
  logger = captureLogger();
  server.setRespond((request, res) => {
    if (request.query.apikey !== API_KEY) return void res.writeHead(403).end();
    if (request.path.endsWith('/file/report')) return sendJson(res, fileReport(request.query.resource!.split(',')));
    if (request.path.endsWith('/url/report')) {
      const answers = request.query.resource!.split('\n').map((resource) => ({ ...loadFixture('url_report_clean_microsoft.json'), resource }));
      return sendJson(res, answers.length === 1 ? answers[0] : answers);
    }
    if (request.path.endsWith('/domain/report')) return sendJson(res, loadFixture('domain_report_virustotal.com_2014.json'));
    if (request.path.endsWith('/ip-address/report')) return sendJson(res, loadFixture('ip_address_report_8.8.8.8_2014.json'));
    res.writeHead(404).end();
  });
});

describe('lookups', () => {
  it.each([
    [{ type: 'domain', value: 'virustotal.com' }, '/vtapi/v2/domain/report', { domain: 'virustotal.com' }],
    [{ type: 'ipv4', value: '8.8.8.8' }, '/vtapi/v2/ip-address/report', { ip: '8.8.8.8' }],
    [{ type: 'url', value: 'http://www.microsoft.com/' }, '/vtapi/v2/url/report', { resource: 'http://www.microsoft.com/' }],
    [{ type: 'md5', value: '7657fcb7d772448a6d8504e4b20168b8' }, '/vtapi/v2/file/report', { resource: '7657fcb7d772448a6d8504e4b20168b8' }],
  ] as const)('looks up %o at %s with the key as apikey', async (observable, path, query) => {
    const outcome = await provider().enrich(observable, context());
    expect(outcome.kind).toBe('found');
    expect(server.seen).toEqual([{ path, query: { apikey: API_KEY, ...query } }]);
  });

  it('refuses IPv6, which ip-address/report does not support', async () => {
    const error = await failure(provider().enrich({ type: 'ipv6', value: '2001:db8::1' }, context()));
    expect(isXEnrichError(error) && error.code).toBe('X_OBSERVABLE_UNSUPPORTED_TYPE');
    expect(server.seen).toHaveLength(0);
  });
});

describe('upstream failures', () => {
  it('turns HTTP 204 into a retryable quota error', async () => {
    server.setRespond((_request, res) => void res.writeHead(204).end());
    const error = await failure(provider().enrich({ type: 'md5', value: '7657fcb7d772448a6d8504e4b20168b8' }, context()));
    expect(isUpstreamError(error) && { kind: error.kind, retryable: error.retryable, status: error.status }).toEqual({ kind: 'quota', retryable: true, status: 204 });
  });

  it('turns HTTP 403 into a non-retryable auth error', async () => {
    const bad = new VirusTotalV2Provider(zVirusTotalV2Options.parse({ apiKey: 'wrong-key', apiUrl: server.apiUrl }), createHttpClient({ logger }), systemClock);
    const error = await failure(bad.enrich({ type: 'domain', value: 'virustotal.com' }, context()));
    expect(isUpstreamError(error) && { kind: error.kind, retryable: error.retryable, status: error.status }).toEqual({ kind: 'auth', retryable: false, status: 403 });
  });

  it.each([
    ['a body that is not JSON', (res: import('node:http').ServerResponse) => void res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>oops ${API_KEY}</html>`)],
    ['an empty 200', (res: import('node:http').ServerResponse) => void res.writeHead(200).end()],
    ['a JSON string', (res: import('node:http').ServerResponse) => sendJson(res, 'hello')],
  ])('turns %s into bad_response', async (_name, respond) => {
    server.setRespond((_request, res) => respond(res));
    const error = await failure(provider().enrich({ type: 'domain', value: 'virustotal.com' }, context()));
    expect(isUpstreamError(error) && error.kind).toBe('bad_response');
    expect(errorText(error)).not.toContain(API_KEY);
  });

  it('reports an unreachable host as a network error', async () => {
    const closed = await startFakeV2(() => undefined);
    await closed.close();
    const unreachable = new VirusTotalV2Provider(zVirusTotalV2Options.parse({ apiKey: API_KEY, apiUrl: closed.apiUrl }), createHttpClient({ logger }), systemClock);
    const error = await failure(unreachable.enrich({ type: 'domain', value: 'virustotal.com' }, context()));
    expect(isUpstreamError(error) && error.kind).toBe('network');
  });

  it('reports a request that outlives requestTimeout as a timeout', async () => {
    server.setRespond(() => undefined); // never answers; the client times out and the socket is dropped
    const error = await failure(provider({ requestTimeout: 100 }).enrich({ type: 'domain', value: 'virustotal.com' }, context()));
    expect(isUpstreamError(error) && error.kind).toBe('timeout');
  });

  it('never puts the key into logs or errors, whatever fails', async () => {
    const errors: unknown[] = [];
    const responders = [
      (res: import('node:http').ServerResponse) => void res.writeHead(204).end(),
      (res: import('node:http').ServerResponse) => void res.writeHead(403).end(),
      (res: import('node:http').ServerResponse) => void res.writeHead(500).end(`error for ${API_KEY}`),
      (res: import('node:http').ServerResponse) => void res.writeHead(200).end(`not json ${API_KEY}`),
      (res: import('node:http').ServerResponse) => sendJson(res, { response_code: -1, verbose_msg: 'Invalid resource' }),
    ];
    for (const respond of responders) {
      server.setRespond((_request, res) => respond(res));
      errors.push(await failure(provider().enrich({ type: 'url', value: 'http://www.microsoft.com/' }, context())));
      const many = await provider().enrichMany([{ type: 'md5', value: '7657fcb7d772448a6d8504e4b20168b8' }, { type: 'domain', value: 'virustotal.com' }], context()).catch((error: unknown) => [error]);
      errors.push(...many);
    }
    expect(errors.length).toBeGreaterThanOrEqual(responders.length * 2);
    const everything = [logger.text(), ...errors.map(errorText)].join('\n');
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain(encodeURIComponent(API_KEY));
    expect(logger.lines.length).toBeGreaterThan(0);
  });
});

describe('batching (enrichMany)', () => {
  const hashes = [detected.md5 as string, ...batch.map((report) => report.sha256 as string), 'ffffffffffffffffffffffffffffffff', (batch[0]!.sha1 as string)];

  it('costs ceil(N/batchSize) file/report requests and maps every answer back by resource', async () => {
    const observables: Observable[] = hashes.map((value) => ({ type: value.length === 32 ? 'md5' : value.length === 40 ? 'sha1' : 'sha256', value }));
    const outcomes = (await provider().enrichMany(observables, context())) as ProviderOutcome[];
    expect(server.seen).toHaveLength(Math.ceil(hashes.length / 4));
    expect(server.seen.map((request) => request.query.resource!.split(',').length)).toEqual([4, 2]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['found', 'found', 'found', 'found', 'not_found', 'found']);
    expect(outcomes.map((outcome) => (outcome.kind === 'found' ? outcome.extracted.positives : null))).toEqual([65, 7, 8, 5, null, 7]);
  });

  it('splits by a private batchSize of 25 into one request', async () => {
    const many = Array.from({ length: 25 }, (_, index) => ({ type: 'md5' as const, value: index.toString(16).padStart(32, '0') }));
    const outcomes = await provider({ batchSize: 25 }).enrichMany(many, context());
    expect(server.seen).toHaveLength(1);
    expect(outcomes.every((outcome) => !(outcome instanceof Error) && outcome.kind === 'not_found')).toBe(true);
  });

  it('asks duplicates once and answers each copy', async () => {
    const md5 = detected.md5 as string;
    const outcomes = await provider().enrichMany([{ type: 'md5', value: md5 }, { type: 'md5', value: md5 }], context());
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]!.query.resource).toBe(md5);
    expect(outcomes.map((outcome) => !(outcome instanceof Error) && outcome.kind)).toEqual(['found', 'found']);
  });

  it('sends URLs newline-separated to url/report, and domains and IPs one by one', async () => {
    const outcomes = await provider().enrichMany(
      [
        { type: 'url', value: 'http://a.example/' },
        { type: 'domain', value: 'virustotal.com' },
        { type: 'url', value: 'http://b.example/x,y' },
        { type: 'ipv4', value: '8.8.8.8' },
        { type: 'ipv6', value: '2001:db8::1' },
      ],
      context(),
    );
    const urlRequests = server.seen.filter((request) => request.path.endsWith('/url/report'));
    expect(urlRequests).toHaveLength(1);
    expect(urlRequests[0]!.query.resource).toBe('http://a.example/\nhttp://b.example/x,y');
    expect(server.seen).toHaveLength(3);
    expect(outcomes.slice(0, 4).map((outcome) => !(outcome instanceof Error) && outcome.kind)).toEqual(['found', 'found', 'found', 'found']);
    expect(outcomes[4]).toBeInstanceOf(Error);
  });

  it('throws a transient failure so core retries the group, and answers the retry without asking again for what it got', async () => {
    const vt = provider();
    const group: Observable[] = [{ type: 'md5', value: detected.md5 as string }, { type: 'domain', value: 'virustotal.com' }];
    server.setRespond((request, res) => (request.path.endsWith('/domain/report') ? void res.writeHead(204).end() : sendJson(res, fileReport(request.query.resource!.split(',')))));
    const error = await failure(vt.enrichMany(group, context()));
    expect(isUpstreamError(error) && error.kind).toBe('quota');
    expect(server.seen).toHaveLength(2);

    // The retry (same group, quota back): only the domain is asked again.
    server.seen.length = 0;
    server.setRespond((_request, res) => sendJson(res, loadFixture('domain_report_virustotal.com_2014.json')));
    const outcomes = await vt.enrichMany(group, context());
    expect(outcomes.map((outcome) => !(outcome instanceof Error) && outcome.kind)).toEqual(['found', 'found']);
    expect(server.seen.map((request) => request.path)).toEqual(['/vtapi/v2/domain/report']);

    // Carried outcomes answer one retry only.
    server.seen.length = 0;
    server.setRespond((_request, res) => sendJson(res, fileReport([detected.md5 as string])));
    await vt.enrichMany([group[0]!], context());
    expect(server.seen).toHaveLength(1);
  });

  it('fails only the affected inputs on a non-transient failure, and throws when every request failed', async () => {
    server.setRespond((request, res) => (request.path.endsWith('/domain/report') ? sendJson(res, { response_code: -1, verbose_msg: 'Invalid domain' }) : sendJson(res, fileReport(request.query.resource!.split(',')))));
    const outcomes = await provider().enrichMany([{ type: 'md5', value: detected.md5 as string }, { type: 'domain', value: 'virustotal.com' }], context());
    expect(outcomes[0]).toMatchObject({ kind: 'found' });
    expect(isUpstreamError(outcomes[1]) && (outcomes[1] as { kind: string }).kind).toBe('bad_request');

    server.setRespond((_request, res) => void res.writeHead(403).end());
    const error = await failure(provider().enrichMany([{ type: 'md5', value: detected.md5 as string }, { type: 'domain', value: 'virustotal.com' }], context()));
    expect(isUpstreamError(error) && error.kind).toBe('auth');
  });

  it('fails an input the answer leaves out with bad_response', async () => {
    server.setRespond((_request, res) => sendJson(res, [{ ...detected, resource: detected.md5 }, { ...detected, resource: 'someone-else' }]));
    const outcomes = await provider().enrichMany([{ type: 'md5', value: detected.md5 as string }, { type: 'md5', value: 'ffffffffffffffffffffffffffffffff' }], context());
    expect(outcomes[0]).toMatchObject({ kind: 'found' });
    expect(isUpstreamError(outcomes[1]) && (outcomes[1] as { kind: string }).kind).toBe('bad_response');
  });
});

describe('health check', () => {
  it('is ok with a working key and explains a refused one', async () => {
    expect(await provider().healthCheck(context())).toEqual({ ok: true });
    const bad = new VirusTotalV2Provider(zVirusTotalV2Options.parse({ apiKey: 'nope', apiUrl: server.apiUrl }), createHttpClient({ logger }), systemClock);
    const health = await bad.healthCheck(context());
    expect(health.ok).toBe(false);
    expect(health.message).toMatch(/403/);
  });
});

describe("through core's HTTP client (rate-limited, secret-redacting)", () => {
  function coreProvider(requests = 100) {
    const rateLimiter = createRateLimiter({ key: 'vt2', windows: [{ requests, perMs: 86_400_000 }], store: createMemoryRateLimitStore(), maxWaitMs: 0 });
    const http = createHttpClient({ rateLimiter, secrets: [API_KEY], logger });
    return { rateLimiter, provider: new VirusTotalV2Provider(zVirusTotalV2Options.parse({ apiKey: API_KEY, apiUrl: server.apiUrl }), http, systemClock) };
  }

  it('spends one unit of budget per batched request: 6 hashes cost 2', async () => {
    const { rateLimiter, provider: vt } = coreProvider();
    const observables: Observable[] = [detected.md5 as string, ...batch.map((report) => report.sha256 as string), 'f'.repeat(32), 'e'.repeat(32)].map((value) => ({ type: value.length === 32 ? 'md5' : 'sha256', value }));
    const outcomes = await vt.enrichMany(observables, context());
    expect(outcomes.every((outcome) => !(outcome instanceof Error))).toBe(true);
    expect(server.seen).toHaveLength(2);
    expect((await rateLimiter.remaining())[0]!.remaining).toBe(98);
  });

  it('feeds a 204 to the limiter as a quota refusal and sends the request again once budget allows, without an error', async () => {
    const log: string[] = [];
    const rateLimiter: RateLimiter = {
      waitedMs: 0,
      acquire: async () => (log.push('acquire'), { settle: async () => void log.push('settle'), refused: async (retryAfterMs) => void log.push(`refused ${String(retryAfterMs)}`) }),
      remaining: async () => [{ requests: 4, perMs: 60_000, remaining: 0 }],
    };
    let refusals = 1;
    server.setRespond((request, res) => (refusals-- > 0 ? void res.writeHead(204).end() : sendJson(res, fileReport(request.query.resource!.split(',')))));
    const vt = new VirusTotalV2Provider(zVirusTotalV2Options.parse({ apiKey: API_KEY, apiUrl: server.apiUrl }), createHttpClient({ rateLimiter, logger }), systemClock);
    const outcome = await vt.enrich({ type: 'md5', value: detected.md5 as string }, context());
    expect(outcome.kind).toBe('found');
    expect(server.seen).toHaveLength(2);
    // VirusTotal sends no Retry-After: the limiter is told nothing more than "refused".
    expect(log).toEqual(['acquire', 'refused undefined', 'acquire', 'settle']);
  });

  it('keeps the same error kinds and never leaks the key', async () => {
    // Without rate-limit windows a refusal cannot be fed back, so the 204 reaches the provider as quota.
    const coreProvider = () => ({ provider: new VirusTotalV2Provider(zVirusTotalV2Options.parse({ apiKey: API_KEY, apiUrl: server.apiUrl }), createHttpClient({ secrets: [API_KEY], logger }), systemClock) });
    const errors: unknown[] = [];
    for (const [status, kind] of [
      [204, 'quota'],
      [403, 'auth'],
      [500, 'http'],
    ] as const) {
      server.setRespond((_request, res) => void res.writeHead(status).end(`echo ${API_KEY}`));
      const error = await failure(coreProvider().provider.enrich({ type: 'md5', value: detected.md5 as string }, context()));
      expect(isUpstreamError(error) && error.kind).toBe(kind);
      errors.push(error);
    }
    server.setRespond((_request, res) => void res.writeHead(200).end(`garbage ${API_KEY}`));
    const garbage = await failure(coreProvider().provider.enrich({ type: 'md5', value: detected.md5 as string }, context()));
    expect(isUpstreamError(garbage) && garbage.kind).toBe('bad_response');
    errors.push(garbage);
    expect((errors[1] as { retryable: boolean }).retryable).toBe(false);
    const everything = [logger.text(), ...errors.map(errorText)].join('\n');
    expect(everything).not.toContain(API_KEY);
  });

  it('passes core\'s X_RATE_LIMIT_EXHAUSTED through unchanged', async () => {
    const { provider: vt } = coreProvider(1);
    await vt.enrich({ type: 'domain', value: 'virustotal.com' }, context());
    const error = await failure(vt.enrich({ type: 'domain', value: 'virustotal.com' }, context()));
    expect(isXEnrichError(error) && error.code).toBe('X_RATE_LIMIT_EXHAUSTED');
  });
});
