import { createHttpClient, isUpstreamError, isXEnrichError, type EnrichContext, type HttpClient, type Observable } from '@x/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { zVirusTotalV3Options } from './options.js';
import { VirusTotalV3Provider } from './provider.js';
import { urlIdentifier } from './mapping.js';
import { captureLogger, errorText } from '@x/core/testing';
import { failure, sendJson, startFakeV3 } from '../test/fake-v3-server.js';
import { loadFixture } from '../test/load-fixture.js';

const API_KEY = 'v3-secret-key-0123456789abcdef';

let server: Awaited<ReturnType<typeof startFakeV3>>;
let logger: ReturnType<typeof captureLogger>;

const context = (): EnrichContext => ({ signal: new AbortController().signal, logger });

/**
 * Core's HTTP client as the engine builds it (told the instance's secrets), and one told none:
 * the key the provider declares as its auth is enough for core to keep it out of everything.
 */
const CLIENTS: Array<[string, () => HttpClient]> = [
  ['core createHttpClient', () => createHttpClient({ secrets: [API_KEY], logger })],
  ['core createHttpClient told no secret', () => createHttpClient({ logger })],
];

function provider(http: HttpClient, options: Record<string, unknown> = {}) {
  return new VirusTotalV3Provider(zVirusTotalV3Options.parse({ apiKey: API_KEY, baseUrl: server.baseUrl, ...options }), http, { now: () => Date.now() });
}

// A fresh server (a fresh port) for every test: a request a test gave up on (a timeout, an
// abort) may still reach the server after that test ended, and on a loaded machine it did,
// landing in the next test's `seen` ("two requests where one was expected"). A late request
// now reaches only its own test's server, which is closed.
afterEach(() => server.close());
beforeEach(async () => {
  server = await startFakeV3();
  logger = captureLogger();
  server.setRespond((request, res) => {
    if (request.headers['x-apikey'] !== API_KEY) return sendJson(res, { error: { code: 'WrongCredentialsError', message: `Wrong API key: ${String(request.headers['x-apikey'])}` } }, 401);
    const path = request.rawUrl;
    if (path.startsWith('/api/v3/ip_addresses/')) return sendJson(res, loadFixture('ip_address_8.8.8.8'));
    if (path.startsWith('/api/v3/domains/')) return sendJson(res, loadFixture('domain_virustotal.com_benign'));
    if (path.startsWith('/api/v3/files/')) return sendJson(res, loadFixture('file_c36b147f_win32_exe_malicious64'));
    if (path.startsWith('/api/v3/urls/')) return sendJson(res, loadFixture('url_dropbox_xls_malicious'));
    sendJson(res, { error: { code: 'NotFoundError', message: 'Resource not found.' } }, 404);
  });
});

describe.each(CLIENTS)('lookups through %s', (_name, makeClient) => {
  it.each([
    [{ type: 'ipv4', value: '8.8.8.8' }, '/api/v3/ip_addresses/8.8.8.8'],
    [{ type: 'ipv6', value: '2001:4860:4860::8888' }, '/api/v3/ip_addresses/2001%3A4860%3A4860%3A%3A8888'],
    [{ type: 'domain', value: 'virustotal.com' }, '/api/v3/domains/virustotal.com'],
    [{ type: 'sha256', value: 'c36b147f86bdeeced8b29342ee7d62a4eaaf79d4332f213a2527221a09a65691' }, '/api/v3/files/c36b147f86bdeeced8b29342ee7d62a4eaaf79d4332f213a2527221a09a65691'],
    [{ type: 'md5', value: '68b329da9893e34099c7d8ad5cb9c940' }, '/api/v3/files/68b329da9893e34099c7d8ad5cb9c940'],
    [{ type: 'url', value: 'https://www.dropbox.com/s/qmi112rc4ns75eb/Confidential_123.xls?dl=1' }, `/api/v3/urls/${urlIdentifier('https://www.dropbox.com/s/qmi112rc4ns75eb/Confidential_123.xls?dl=1')}`],
  ] as const)('GETs %o at %s with the key only in x-apikey', async (observable, path) => {
    const outcome = await provider(makeClient()).enrich(observable, context());
    expect(outcome.kind).toBe('found');
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]!.rawUrl).toBe(path);
    expect(server.seen[0]!.headers['x-apikey']).toBe(API_KEY);
  });

  it.each(['../../files/abc', '..a', 'a?x=1', 'a#frag', 'a%2f..%2fb', 'a/../../b', '%2e%2e', '...%2e'])('keeps %j inside /domains/ as one segment', async (value) => {
    await provider(makeClient()).enrich({ type: 'domain', value }, context());
    const raw = server.seen[0]!.rawUrl;
    expect(raw.startsWith('/api/v3/domains/')).toBe(true);
    const segment = raw.slice('/api/v3/domains/'.length);
    expect(segment).not.toMatch(/[/?#]/);
    expect(decodeURIComponent(segment)).toBe(value);
  });

  it.each(['', '.', '..', '...'])('refuses %j without sending a request: a dot-only segment would be resolved away', async (value) => {
    const error = await failure(provider(makeClient()).enrich({ type: 'domain', value }, context()));
    expect(isXEnrichError(error) && error.code).toBe('X_OBSERVABLE_INVALID');
    expect(server.seen).toHaveLength(0);
  });

  it('maps NotFoundError to not_found', async () => {
    server.setRespond((_request, res) => sendJson(res, loadFixture('error_404_NotFoundError_file'), 404));
    const outcome = await provider(makeClient()).enrich({ type: 'sha256', value: '01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b' }, context());
    expect(outcome).toMatchObject({ kind: 'not_found', reasons: [{ rule: 'NotFoundError' }] });
  });

  it('treats a 404 that is not VirusTotal NotFoundError as an error (a wrong baseUrl), not as not_found', async () => {
    server.setRespond((_request, res) => void res.writeHead(404, { 'content-type': 'text/html' }).end('<html>nope</html>'));
    const error = await failure(provider(makeClient()).enrich({ type: 'domain', value: 'example.org' }, context()));
    expect(isUpstreamError(error) && [error.kind, error.status, error.retryable]).toEqual(['http', 404, false]);
    expect((error as Error).message).toContain('check baseUrl');
  });

  it('turns WrongCredentialsError into a non-retryable auth error that never repeats the echoed key', async () => {
    const error = await failure(provider(makeClient(), { apiKey: `${API_KEY}-wrong` }).enrich({ type: 'domain', value: 'example.org' }, context()));
    expect(isUpstreamError(error) && [error.kind, error.status, error.upstreamCode, error.retryable]).toEqual(['auth', 401, 'WrongCredentialsError', false]);
    const everything = errorText(error) + logger.text();
    expect(everything).not.toContain(API_KEY);
  });

  it.each([
    [403, 'ForbiddenError', 'auth', false],
    [401, 'AuthenticationRequiredError', 'auth', false],
    [429, 'QuotaExceededError', 'quota', true],
    [400, 'InvalidArgumentError', 'bad_request', false],
    [500, 'InternalError', 'http', true],
    [503, 'TransientError', 'http', true],
    [504, 'DeadlineExceededError', 'http', true],
    [409, 'AlreadyExistsError', 'http', false],
  ] as const)('maps HTTP %i %s to %s (retryable: %s) with the upstream code', async (status, code, kind, retryable) => {
    server.setRespond((_request, res) => sendJson(res, { error: { code, message: `said ${code} to ${API_KEY}` } }, status));
    const error = await failure(provider(makeClient()).enrich({ type: 'domain', value: 'example.org' }, context()));
    expect(isUpstreamError(error) && [error.kind, error.status, error.upstreamCode, error.retryable]).toEqual([kind, status, code, retryable]);
    expect(errorText(error) + logger.text()).not.toContain(API_KEY);
  });

  it('asks to wait a minute on a quota error without Retry-After, and honours Retry-After when sent', async () => {
    server.setRespond((_request, res) => sendJson(res, loadFixture('error_429_QuotaExceededError'), 429));
    const error = await failure(provider(makeClient()).enrich({ type: 'domain', value: 'example.org' }, context()));
    expect(isUpstreamError(error) && error.retryAfterMs).toBe(60_000);
    server.setRespond((_request, res) => sendJson(res, loadFixture('error_429_QuotaExceededError'), 429, { 'retry-after': '7' }));
    const again = await failure(provider(makeClient()).enrich({ type: 'domain', value: 'example.org' }, context()));
    expect(isUpstreamError(again) && again.retryAfterMs).toBe(7_000);
  });

  it('reads a quota error whose body is not JSON (seen as gzip garbage in vt-go) as quota', async () => {
    server.setRespond((_request, res) => void res.writeHead(429).end(Buffer.from([0x1f, 0x8b, 0x00, 0xff])));
    const error = await failure(provider(makeClient()).enrich({ type: 'domain', value: 'example.org' }, context()));
    expect(isUpstreamError(error) && error.kind).toBe('quota');
  });

  it.each([
    ['not JSON', 'Service temporarily unavailable'],
    ['JSON of the wrong shape', JSON.stringify({ data: { type: 'domain', id: 1 } })],
    ['an empty body', ''],
  ])('turns a 200 with %s into bad_response', async (_what, body) => {
    server.setRespond((_request, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    const error = await failure(provider(makeClient()).enrich({ type: 'domain', value: 'example.org' }, context()));
    expect(isUpstreamError(error) && error.kind).toBe('bad_response');
  });

  it('turns a connection reset into a retryable network error', async () => {
    server.setRespond((_request, res) => res.socket?.destroy());
    const error = await failure(provider(makeClient()).enrich({ type: 'domain', value: 'example.org' }, context()));
    expect(isUpstreamError(error) && [error.kind, error.retryable]).toEqual(['network', true]);
  });

  it('turns a slow answer into a retryable timeout after requestTimeout', async () => {
    server.setRespond((_request, res) => void setTimeout(() => sendJson(res, {}), 2_000).unref());
    const error = await failure(provider(makeClient(), { requestTimeout: '100ms' }).enrich({ type: 'domain', value: 'example.org' }, context()));
    expect(isUpstreamError(error) && [error.kind, error.retryable]).toEqual(['timeout', true]);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    // Aborts once the request is in flight (seen by the server, never answered), not after a guessed delay.
    server.setRespond(() => controller.abort());
    const pending = provider(makeClient()).enrich({ type: 'domain', value: 'example.org' }, { signal: controller.signal, logger });
    const error = await failure(pending);
    expect(isXEnrichError(error) && error.code).toBe('X_ABORTED');
  });
});

describe('health check', () => {
  it('looks up one IP and reports the key refused without repeating it', async () => {
    expect(await provider(createHttpClient({ logger })).healthCheck(context())).toEqual({ ok: true });
    const refused = await provider(createHttpClient({ logger }), { apiKey: 'nope-key-123' }).healthCheck(context());
    expect(refused.ok).toBe(false);
    expect(refused.message).not.toContain('nope-key-123');
  });
});

describe('observables cannot escape the base path', () => {
  it.each<Observable>([
    { type: 'ipv4', value: '../domains/x' },
    { type: 'sha256', value: '..%2F..%2Fusers%2Fme' },
    { type: 'url', value: 'http://x/../../?#' },
  ])('%o', async (observable) => {
    await provider(createHttpClient({ logger })).enrich(observable, context()).catch(() => undefined);
    const raw = server.seen[0]!.rawUrl;
    expect(raw.split('/')).toHaveLength(5);
    expect(raw).not.toMatch(/[?#]/);
  });
});

describe('through the engine', () => {
  /** The engine over the provider and this test's fake server, without cache or rate limit. */
  async function engine(apiKey: string, extra: { secrets?: string[] } = {}) {
    const { createEnricher, zProviderInstanceConfig, zProviderManifest } = await import('@x/core');
    const { default: plugin } = await import('./plugin.js');
    const manifest = zProviderManifest.parse(plugin.manifest);
    const options = { apiKey, baseUrl: server.baseUrl };
    return createEnricher({
      providers: [{ name: 'vt3', plugin, manifest, options: zVirusTotalV3Options.parse(options), config: zProviderInstanceConfig.parse({ use: manifest.packageName, options, rateLimit: false, cache: false }) }],
      cacheStore: false,
      logger,
      ...extra,
    });
  }

  it('an upstream that echoes the wrong key (as real VirusTotal does) leaks it nowhere, with the engine\'s own redaction switched off', async () => {
    const wrongKey = 'echoed-wrong-key-987654321';
    const enricher = await engine(wrongKey, { secrets: [] });
    try {
      const { records } = await enricher.enrich([{ type: 'domain', value: 'example.org' }], { includeRaw: true });
      expect(records[0]).toMatchObject({ status: 'error', error: { code: 'X_UPSTREAM_AUTH', retryable: false } });
      expect(server.seen).toHaveLength(1);
      expect(JSON.stringify(records) + logger.text()).not.toContain(wrongKey);
    } finally {
      await enricher.close();
    }
  });

  it('a lookup asking for the raw response gets the whole body; one that does not gets the same record without it', async () => {
    const enricher = await engine(API_KEY);
    try {
      const observable = { type: 'domain', value: 'virustotal.com' } as const;
      const [withRaw] = (await enricher.enrich([observable], { includeRaw: true })).records;
      const [plain] = (await enricher.enrich([observable])).records;
      expect(withRaw!.raw).toEqual(loadFixture('domain_virustotal.com_benign'));
      expect(JSON.stringify(withRaw!.raw)).toContain('"last_analysis_results"');
      expect(plain!.raw).toBeUndefined();
      const { raw: _raw, fetchedAt: _fetchedAt, ...rest } = withRaw!;
      expect(plain).toMatchObject({ ...rest, status: 'ok' });
    } finally {
      await enricher.close();
    }
  });

  it('never parses last_analysis_results unless the raw response is wanted (UNREAD_MEMBERS reach the client)', async () => {
    // The capture with its engine results replaced by text that is not JSON inside but balanced
    // (a missing comma): JSON.parse refuses the body, so only a lookup that never parsed the
    // member can map it.
    const capture = JSON.stringify(loadFixture('domain_virustotal.com_benign'));
    const at = capture.indexOf('"last_analysis_results":') + '"last_analysis_results":'.length;
    let depth = 0;
    let end = at;
    for (; end < capture.length; end++) {
      if (capture[end] === '{') depth++;
      else if (capture[end] === '}' && --depth === 0) break;
    }
    const filler = Array.from({ length: 200 }, (_, i) => `"Engine ${i}":{"category":"harmless"}`).join(',');
    const body = `${capture.slice(0, at)}{${filler} "Broken":{}}${capture.slice(end + 1)}`;
    expect(() => JSON.parse(body)).toThrow(SyntaxError);
    server.setRespond((_request, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    const enricher = await engine(API_KEY);
    try {
      const observable = { type: 'domain', value: 'virustotal.com' } as const;
      const [plain] = (await enricher.enrich([observable])).records;
      expect(plain).toMatchObject({ status: 'ok', verdict: 'benign' });
      const [withRaw] = (await enricher.enrich([observable], { includeRaw: true })).records;
      expect(withRaw).toMatchObject({ status: 'error', error: { code: 'X_UPSTREAM_BAD_RESPONSE' } });
    } finally {
      await enricher.close();
    }
  });
});
