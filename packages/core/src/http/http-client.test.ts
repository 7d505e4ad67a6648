import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { zResilienceConfig } from '../config/config-schema.js';
import { isUpstreamError, isXEnrichError, type UpstreamError } from '../contract/x-enrich-error.js';
import type { AttemptTimeout } from '../contract/provider.js';
import { abortWatchOf, DeadlineWheel, runAttempt, type AttemptContext } from '../resilience/attempt-timeout.js';
import { contextFor } from '../engine/stages/call.js';
import type { EnrichContext } from '../contract/provider.js';
import { createResiliencePolicies } from '../resilience/policies.js';
import type { RateLimitGrant, RateLimiter } from '../contract/rate-limit-store.js';
import { captureLogger, errorText } from '../testing/capture.js';
import { createFakeClock, type FakeClock } from '../testing/fake-clock.js';
import { parseRetryAfter } from './classify.js';
import { createHttpClient, type HttpClientOptions } from './http-client.js';
import type { HttpCallInfo, UpstreamCallContext, UpstreamDefinition } from './upstream.js';

// A key whose URL-encoded (`%2F`, `%20`, `%2B`) and form-encoded (`+`) spellings differ from it.
const SECRET = 'sk/test key+9f8e7d6c5b4a';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
/** Requests in order of arrival, counted when they reach the server. */
let arrivals: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string; socket: Socket }>;
let connections: number;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      arrivals.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, socket: req.socket });
      handler(req, res, body);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

const clients: Array<{ close(): void }> = [];
beforeEach(() => {
  arrivals = [];
  connections = 0;
  handler = (_req, res) => json(res, 200, { ok: true });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  // Every test starts without a kept-alive socket, so connection counts are per test.
  for (const socket of sockets) socket.destroy();
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const logger = captureLogger();
const calls: HttpCallInfo[] = [];

function upstream(definition: Partial<UpstreamDefinition> = {}, options: HttpClientOptions = {}) {
  const client = createHttpClient({ logger, onCall: (info) => calls.push(info), ...options });
  clients.push(client);
  return client.upstream({ name: 'Test API', baseUrl, auth: { header: 'x-apikey', secret: SECRET }, ...definition });
}

const context = (signal = new AbortController().signal): UpstreamCallContext => ({ signal });

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (e: unknown) => e,
  );
  expect(isXEnrichError(error), String(error)).toBe(true);
  // Nothing that left the client may carry the secret in any spelling, nor the HTTP library's error.
  const text = errorText(error) + logger.text();
  for (const spelling of [SECRET, encodeURIComponent(SECRET), new URLSearchParams({ s: SECRET }).toString().slice(2)]) expect(text).not.toContain(spelling);
  expect((error as Error).cause).toBeUndefined();
  return error as UpstreamError;
}

/** A limiter whose grants record what the client reported. */
function recordingLimiter(wait: (cost: number, signal?: AbortSignal) => Promise<void> = async () => undefined) {
  const log: string[] = [];
  const limiter: RateLimiter = {
    waitedMs: 0,
    async acquire(cost = 1, signal) {
      log.push('acquire');
      await wait(cost, signal);
      const grant: RateLimitGrant = {
        settle: async () => void log.push('settle'),
        refused: async (retryAfterMs) => void log.push(`refused ${String(retryAfterMs)}`),
      };
      return grant;
    },
    remaining: async () => [{ requests: 4, perMs: 60_000, remaining: 0 }],
  };
  return { limiter, log };
}

describe('requests', () => {
  it('sends the auth header, encodes every path segment and resolves with the parsed body', async () => {
    handler = (req, res) => json(res, 200, { key: req.headers['x-apikey'] === SECRET });
    const response = await upstream().get(['files', 'a/b?c#d e'], context(), { query: { limit: 2, cursor: undefined, tag: ['x', 'y'] } });
    expect(response).toMatchObject({ status: 200, body: { key: true }, notFound: false });
    expect(arrivals[0]!.url).toBe('/api/files/a%2Fb%3Fc%23d%20e?limit=2&tag=x&tag=y');
    expect(arrivals[0]!.headers['user-agent']).toMatch(/^x-enrich\//);
  });

  it('sends a query-parameter auth and JSON and form bodies', async () => {
    handler = (_req, res, body) => json(res, 200, { body });
    const api = upstream({ auth: { query: 'apikey', secret: SECRET } });
    await api.post(['urls'], context(), { json: { url: 'http://x' } });
    await api.post(['urls'], context(), { form: { url: 'http://y', n: '1' } });
    expect(arrivals.map((a) => [a.method, new URL(a.url, 'http://h').searchParams.get('apikey'), a.headers['content-type'], a.body])).toEqual([
      ['POST', SECRET, 'application/json', '{"url":"http://x"}'],
      ['POST', SECRET, 'application/x-www-form-urlencoded', 'url=http%3A%2F%2Fy&n=1'],
    ]);
  });

  it('refuses an empty or dot-only segment without spending budget or sending anything', async () => {
    const { limiter, log } = recordingLimiter();
    for (const segment of ['', '.', '..']) {
      const error = await failure(upstream({}, { rateLimiter: limiter }).get(['domains', segment], context()));
      expect(error.code).toBe('X_OBSERVABLE_INVALID');
    }
    expect([log, arrivals]).toEqual([[], []]);
  });

  it('keeps sockets alive between requests and opens at most maxSockets', async () => {
    const api = upstream({}, { maxSockets: 2 });
    await api.get(['a'], context());
    await api.get(['b'], context());
    expect(connections).toBe(1);
    await Promise.all(Array.from({ length: 6 }, (_, i) => api.get([`c${i}`], context())));
    expect(connections).toBe(2);
    expect(arrivals).toHaveLength(8);
  });

  it('reports every request to onCall and the debug log, without the query string', async () => {
    calls.length = 0;
    await upstream({ auth: { query: 'apikey', secret: SECRET } }).get(['ok'], context());
    expect(calls).toEqual([{ method: 'GET', status: 200, durationMs: expect.any(Number) }]);
    expect(logger.lines.at(-1)).toMatchObject({ level: 'debug', obj: { upstream: 'Test API', method: 'GET', path: '/api/ok', status: 200 } });
  });

  it('rejects a base URL with a query string or credentials when the upstream is described', () => {
    expect(() => upstream({ baseUrl: `${baseUrl}?apikey=x` })).toThrow(/query string/);
    expect(() => upstream({ baseUrl: 'http://user:pw@127.0.0.1/' })).toThrow(/credentials/);
  });
});

describe('status classification', () => {
  const fails = (status: number, body: unknown = { error: { code: `E${status}`, message: `upstream says ${status} to ${SECRET}` } }, headers: Record<string, string> = {}) => {
    handler = (_req, res) => json(res, status, body, headers);
    return failure(upstream().get(['thing', 'x'], context()));
  };

  it.each([
    [400, 'bad_request', 'X_UPSTREAM_BAD_REQUEST', false],
    [401, 'auth', 'X_UPSTREAM_AUTH', false],
    [403, 'auth', 'X_UPSTREAM_AUTH', false],
    [404, 'http', 'X_UPSTREAM_HTTP', false],
    [409, 'http', 'X_UPSTREAM_HTTP', false],
    [429, 'quota', 'X_UPSTREAM_QUOTA', true],
    [500, 'http', 'X_UPSTREAM_HTTP', true],
    [503, 'http', 'X_UPSTREAM_HTTP', true],
  ] as const)('HTTP %i is %s (%s, retryable: %s), with the upstream code', async (status, kind, code, retryable) => {
    const error = await fails(status);
    expect([error.kind, error.code, error.status, error.retryable, error.upstreamCode]).toEqual([kind, code, status, retryable, `E${status}`]);
    expect(error.message).toContain(`Test API GET /api/thing/x answered HTTP ${status} E${status}`);
  });

  it('repeats the upstream message, scrubbed, except on auth failures (upstreams echo the refused key)', async () => {
    expect((await fails(500)).message).toContain('upstream says 500 to [REDACTED]');
    expect((await fails(401)).message).not.toContain('upstream says');
  });

  it('reads Retry-After (seconds) for quota and 5xx', async () => {
    expect((await fails(429, {}, { 'retry-after': '7' })).retryAfterMs).toBe(7_000);
    expect((await fails(503, {}, { 'retry-after': '2' })).retryAfterMs).toBe(2_000);
  });

  it('never follows a redirect: the credentials would travel with it', async () => {
    handler = (_req, res) => void res.writeHead(302, { location: `${baseUrl}/elsewhere` }).end();
    const error = await failure(upstream().get(['moved'], context()));
    expect([error.kind, error.status, error.retryable]).toEqual(['http', 302, false]);
    expect(error.message).toContain('Redirects are not followed');
    expect(arrivals).toHaveLength(1);
  });

  it("applies the provider's status table, its error parser and its not-found rule", async () => {
    const api = upstream({
      parseError: (body) => ((body as { verbose?: string }).verbose ? { code: 'V', message: (body as { verbose: string }).verbose } : undefined),
      statuses: { 204: { kind: 'quota', retryAfterMs: 60_000, hint: 'Lower the rate limit.' }, 418: 'bad_response', 404: { kind: 'http', retryable: false, hint: 'Check baseUrl.' } },
      notFound: ({ status, error }) => status === 404 && error?.code === 'V',
    });
    handler = (_req, res) => void res.writeHead(204).end();
    const quota = await failure(api.get(['a'], context()));
    expect([quota.kind, quota.status, quota.retryAfterMs]).toEqual(['quota', 204, 60_000]);
    expect(quota.message).toContain('Lower the rate limit.');
    handler = (_req, res) => json(res, 418, {});
    expect((await failure(api.get(['a'], context()))).kind).toBe('bad_response');
    handler = (_req, res) => json(res, 404, { verbose: `no such thing for ${SECRET}` });
    const missing = await api.get(['a'], context());
    expect(missing).toMatchObject({ status: 404, notFound: true, error: { code: 'V', message: 'no such thing for [REDACTED]' } });
    handler = (_req, res) => void res.writeHead(404, { 'content-type': 'text/html' }).end('<html>wrong host</html>');
    const wrongHost = await failure(api.get(['a'], context()));
    expect([wrongHost.kind, wrongHost.status, wrongHost.retryable]).toEqual(['http', 404, false]);
    expect(wrongHost.message).toContain('Check baseUrl.');
  });

  it('reads a 204 without a table entry as an answer without a body', async () => {
    handler = (_req, res) => void res.writeHead(204).end();
    expect(await upstream().get(['a'], context())).toMatchObject({ status: 204, body: undefined });
  });

  it('leaves the unread members out of a 2xx body only while the raw response is not wanted', async () => {
    const body = { data: { attributes: { last_analysis_results: { Engine: { category: 'harmless' } }, reputation: 3 } }, meta: { last_analysis_results: [] } };
    handler = (_req, res) => json(res, 200, body);
    const api = upstream();
    const unread = ['last_analysis_results'];
    const notWanted = { ...context(), rawWanted: false };
    expect((await api.get(['a'], notWanted, { unread })).body).toEqual({ data: { attributes: { reputation: 3 } }, meta: {} });
    // Wanted, or not said (a context built by hand): the whole body.
    expect((await api.get(['a'], { ...context(), rawWanted: true }, { unread })).body).toEqual(body);
    expect((await api.get(['a'], context(), { unread })).body).toEqual(body);
    // The engine's context reads the engine's answer live, when the body arrives.
    let keepsRaw = false;
    const live = contextFor(undefined, captureLogger(), new AbortController().signal, undefined, () => keepsRaw);
    expect((await api.get(['a'], live, { unread })).body).toEqual({ data: { attributes: { reputation: 3 } }, meta: {} });
    keepsRaw = true;
    expect((await api.get(['a'], live, { unread })).body).toEqual(body);
    // A body that is not JSON around the cut still fails; a name JSON could escape is refused before sending.
    handler = (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"last_analysis_results":{},"x":');
    expect((await failure(api.get(['a'], notWanted, { unread }))).kind).toBe('bad_response');
    const sent = arrivals.length;
    await expect(api.get(['a'], notWanted, { unread: ['a"b'] })).rejects.toThrow(/unread member names/);
    expect(arrivals.length).toBe(sent);
  });
});

describe('bodies, network failures and timeouts', () => {
  it.each([
    ['not JSON', `<html>error for ${SECRET}</html>`, 'not JSON (starts with "<html>error for [REDACTED]'],
    ['empty', '', 'an empty body'],
  ])('turns a 2xx whose body is %s into bad_response', async (_what, body, said) => {
    handler = (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    const error = await failure(upstream().get(['a'], context()));
    expect([error.kind, error.retryable]).toEqual(['bad_response', false]);
    expect(error.message).toContain(said);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ])('asks for compressed answers and decodes a %s body', async (encoding, compress) => {
    handler = (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding }).end(compress(Buffer.from(JSON.stringify({ encoding, text: 'é'.repeat(3) }))));
    const response = await upstream().get(['z'], context());
    expect(response.body).toEqual({ encoding, text: 'ééé' });
    expect(arrivals[0]!.headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it('fails as bad_response, without reading on, when a body passes maxResponseBytes', async () => {
    handler = (_req, res) => json(res, 200, { data: 'x'.repeat(5000) });
    const error = await failure(upstream({ maxResponseBytes: 1000 }).get(['big'], context()));
    expect([error.kind, error.retryable]).toEqual(['bad_response', false]);
    expect(error.message).toContain('answered more than 1000 bytes (maxResponseBytes)');
    // The same size passes when the cap allows it.
    expect((await upstream({ maxResponseBytes: 6000 }).get(['big'], context())).status).toBe(200);
  });

  it('turns a connection reset into a retryable network error', async () => {
    handler = (req) => req.socket.destroy();
    const error = await failure(upstream().get(['reset'], context()));
    expect([error.kind, error.code, error.retryable]).toEqual(['network', 'X_UPSTREAM_NETWORK', true]);
  });

  it('turns a refused connection into a network error', async () => {
    const error = await failure(upstream({ baseUrl: 'http://127.0.0.1:1/api', auth: { query: 'apikey', secret: SECRET } }).get(['x'], context()));
    expect([error.kind, error.details.errno]).toEqual(['network', 'ECONNREFUSED']);
  });

  it('turns a request that outlives its timeout into a retryable timeout', async () => {
    handler = () => undefined; // never answers
    const error = await failure(upstream({ timeoutMs: 50, auth: { query: 'apikey', secret: SECRET } }).get(['slow'], context()));
    expect([error.kind, error.code, error.retryable]).toEqual(['timeout', 'X_TIMEOUT', true]);
    expect(error.message).toContain('did not answer within 50 ms');
  });

  it('closes the socket at the server when the signal aborts', async () => {
    handler = () => undefined;
    const controller = new AbortController();
    const pending = failure(upstream().get(['hang'], context(controller.signal)));
    await until(() => arrivals.length === 1);
    const closed = once(arrivals[0]!.socket, 'close');
    controller.abort();
    expect((await pending).code).toBe('X_ABORTED');
    await closed;
    expect(arrivals[0]!.socket.destroyed).toBe(true);
  });

  describe("following the attempt's abort without making its signal (the engine's context)", () => {
    /** Runs `fn` in a timed attempt, with the provider context the engine makes (`contextFor`). */
    function inAttempt<T>(parent: AbortSignal, fn: (context: EnrichContext, attempt: AttemptContext) => Promise<T>, timeoutMs = 60_000): Promise<T> {
      return runAttempt(new DeadlineWheel(timeoutMs), parent, (attempt) => fn(contextFor(attempt, logger, parent), attempt));
    }
    /** Whether the attempt has made its AbortController (only reading `signal` does). */
    const madeSignal = (attempt: AttemptContext): boolean => (attempt as unknown as { controller?: AbortController }).controller !== undefined;

    it('answers without the attempt making an AbortController', async () => {
      const made = await inAttempt(new AbortController().signal, async (context, attempt) => {
        const response = await upstream().get(['a'], context);
        expect(response.body).toEqual({ ok: true });
        return madeSignal(attempt);
      });
      expect(made).toBe(false);
    });

    it('closes the socket when the caller aborts, and rejects with X_ABORTED', async () => {
      handler = () => undefined;
      const controller = new AbortController();
      let inner: Promise<UpstreamError> | undefined;
      const pending = inAttempt(controller.signal, (context) => {
        const request = upstream().get(['hang'], context);
        inner = failure(request);
        return request;
      }).then(
        () => undefined,
        (error: unknown) => error as UpstreamError,
      );
      await until(() => arrivals.length === 1);
      const closed = once(arrivals[0]!.socket, 'close');
      controller.abort();
      expect((await pending)?.code).toBe('X_ABORTED');
      // What the provider's request rejects with: X_ABORTED too, with nothing of the request's in it.
      expect((await inner!).code).toBe('X_ABORTED');
      await closed;
      expect(arrivals[0]!.socket.destroyed).toBe(true);
    });

    it("closes the socket when the attempt's timeout fires, and the provider sees X_TIMEOUT with the signal aborted", async () => {
      handler = () => undefined;
      let seen: { error: unknown; aborted: boolean } | undefined;
      const pending = failure(
        inAttempt(
          new AbortController().signal,
          (context) =>
            upstream()
              .get(['hang'], context)
              .catch((error: unknown) => {
                seen = { error, aborted: context.signal.aborted };
                throw error;
              }),
          100,
        ),
      );
      await until(() => arrivals.length === 1);
      const closed = once(arrivals[0]!.socket, 'close');
      expect((await pending).code).toBe('X_TIMEOUT');
      await closed;
      expect(arrivals[0]!.socket.destroyed).toBe(true);
      await until(() => seen !== undefined);
      expect(seen!.aborted).toBe(true);
      expect((seen!.error as UpstreamError).code).toBe('X_TIMEOUT');
    });

    it('follows two requests of one attempt at once, and both close on the abort', async () => {
      handler = () => undefined;
      const controller = new AbortController();
      const both = inAttempt(controller.signal, (context) => Promise.allSettled([upstream().get(['a'], context), upstream().get(['b'], context)]));
      const settled = both.catch((error: unknown) => error);
      await until(() => arrivals.length === 2);
      const closed = arrivals.map((arrival) => once(arrival.socket, 'close'));
      controller.abort();
      expect((await settled as UpstreamError).code).toBe('X_ABORTED');
      await Promise.all(closed);
    });

    it("follows a context's own signal when the provider passes a context of its own (spread, or a different signal)", async () => {
      handler = () => undefined;
      const own = new AbortController();
      const pending = failure(inAttempt(new AbortController().signal, (context) => upstream().get(['hang'], { ...context, signal: own.signal })));
      await until(() => arrivals.length === 1);
      const closed = once(arrivals[0]!.socket, 'close');
      own.abort();
      expect((await pending).code).toBe('X_ABORTED');
      await closed;
    });

    it('abortWatchOf: the attempt only for the very context it adopted', async () => {
      await inAttempt(new AbortController().signal, async (context) => {
        expect(abortWatchOf(context)).toBe(context.attemptTimeout);
        expect(abortWatchOf({ ...context })).toBeInstanceOf(AbortSignal);
        expect(abortWatchOf({ signal: context.signal, attemptTimeout: context.attemptTimeout })).toBe(context.signal);
      });
    });
  });
});

describe('rate-limit budget', () => {
  it('waits for its cost of budget before every request and settles the grant after the answer', async () => {
    const { limiter, log } = recordingLimiter();
    const api = upstream({}, { rateLimiter: limiter });
    await api.get(['a'], context());
    handler = (req) => req.socket.destroy();
    await failure(api.get(['b'], context()));
    expect(log).toEqual(['acquire', 'settle', 'acquire', 'settle']);
  });

  it('absorbs a quota refusal: the limiter hears of it, and the request waits for budget again without a retry attempt', async () => {
    let refusals = 1;
    handler = (_req, res) => (refusals-- > 0 ? json(res, 429, { error: { code: 'QuotaExceededError' } }, { 'retry-after': '3' }) : json(res, 200, { ok: true }));
    const { limiter, log } = recordingLimiter();
    const api = upstream({}, { rateLimiter: limiter });
    const retries: unknown[] = [];
    const policies = createResiliencePolicies(zResilienceConfig.parse({ retry: { maxAttempts: 3, initialDelay: 1 }, circuitBreaker: false, bulkhead: false }), { onRetry: (info) => retries.push(info) });
    const response = await policies.execute((attempt) => api.get(['a'], { signal: attempt.signal, attemptTimeout: attempt }), new AbortController().signal);
    expect(response.body).toEqual({ ok: true });
    expect(arrivals).toHaveLength(2);
    expect(log).toEqual(['acquire', 'refused 3000', 'acquire', 'settle']);
    expect(retries).toEqual([]);
  });

  it('fails with quota after ten refusals of one request in a row, so a spent key cannot hold a lookup forever', async () => {
    handler = (_req, res) => json(res, 429, {});
    const { limiter, log } = recordingLimiter();
    const error = await failure(upstream({}, { rateLimiter: limiter }).get(['a'], context()));
    expect(error.kind).toBe('quota');
    expect(arrivals).toHaveLength(11);
    expect(log.filter((entry) => entry.startsWith('refused'))).toHaveLength(10);
    expect(log.at(-1)).toBe('settle');
  });

  it('throws a refusal at once when the limiter has no windows to feed it to', async () => {
    handler = (_req, res) => json(res, 429, {});
    const { limiter, log } = recordingLimiter();
    const unlimited: RateLimiter = { ...limiter, acquire: limiter.acquire.bind(limiter), remaining: async () => [] };
    expect((await failure(upstream({}, { rateLimiter: unlimited }).get(['a'], context()))).kind).toBe('quota');
    expect([arrivals.length, log]).toEqual([1, ['acquire', 'settle']]);
  });

  it('asks a limiter that says it is unlimited for nothing, and a 429 still fails as quota', async () => {
    const { limiter, log } = recordingLimiter();
    const unlimited: RateLimiter = { ...limiter, unlimited: true, acquire: limiter.acquire.bind(limiter), remaining: async () => [] };
    const api = upstream({}, { rateLimiter: unlimited });
    expect((await api.get(['a'], context())).status).toBe(200);
    handler = (_req, res) => json(res, 429, {});
    expect((await failure(api.get(['b'], context()))).kind).toBe('quota');
    expect(arrivals).toHaveLength(2);
    expect(log).toEqual([]);
  });

  describe('the attempt timeout, on a fake clock', () => {
    const TIMEOUT = 1_000;
    let clock: FakeClock;
    let wheel: DeadlineWheel;
    beforeEach(() => {
      clock = createFakeClock();
      wheel = new DeadlineWheel(TIMEOUT, clock);
    });
    /** A limiter that makes each request wait 5 s of fake time for budget: five times the timeout. */
    const slowBudget = () => recordingLimiter((_cost, signal) => clock.sleep(5 * TIMEOUT, signal));

    function attempt(api: ReturnType<typeof upstream>, pass: (timeout: AttemptTimeout) => AttemptTimeout | undefined) {
      return runAttempt(wheel, new AbortController().signal, (running) => api.get(['a'], { signal: running.signal, attemptTimeout: pass(running) }));
    }

    it('is paused while the request waits for budget', async () => {
      const api = upstream({}, { rateLimiter: slowBudget().limiter });
      const pending = attempt(api, (timeout) => timeout);
      await clock.advance(5 * TIMEOUT);
      expect((await pending).status).toBe(200);
    });

    it('fires during that wait when the context carries no timeout to pause (the detour this replaces)', async () => {
      const api = upstream({}, { rateLimiter: slowBudget().limiter });
      const pending = failure(attempt(api, () => undefined));
      await clock.advance(5 * TIMEOUT);
      expect((await pending).code).toBe('X_TIMEOUT');
      expect(arrivals).toHaveLength(0);
    });

    it('runs again once the request is sent', async () => {
      handler = () => undefined;
      const api = upstream({}, { rateLimiter: slowBudget().limiter });
      const pending = failure(attempt(api, (timeout) => timeout));
      await clock.advance(5 * TIMEOUT);
      await until(() => arrivals.length === 1);
      await clock.advance(TIMEOUT + 250);
      expect((await pending).code).toBe('X_TIMEOUT');
    });
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('secrets', () => {
  it('never leave the client, whatever fails and however the upstream echoes them', async () => {
    const api = upstream({ auth: { query: 'apikey', secret: SECRET }, name: 'Echo' });
    const echoes: Handler[] = [
      (req, res) => json(res, 500, { error: { code: 'E', message: `bad request ${req.url ?? ''}` } }),
      (req, res) => json(res, 400, { message: `bad key ${decodeURIComponent(req.url ?? '')}` }),
      (req, res) => void res.writeHead(200).end(`not json ${req.url ?? ''}`),
      (req, res) => json(res, 429, { error: `slow down ${SECRET}` }),
    ];
    for (const echo of echoes) {
      handler = echo;
      await failure(api.get(['a'], context()));
    }
    // A definition's other secrets are scrubbed too, wherever they appear (here: a path segment).
    const error = await failure(upstream({ secrets: ['other-secret'] }).get(['other-secret'], context()));
    expect(isUpstreamError(error) && error.message).toContain('/api/[REDACTED]');
    expect(errorText(error)).not.toContain('other-secret');
  });
});

describe('proxies from the environment', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('sends through the proxy HTTP_PROXY names (axios applies it), and directly without one', async () => {
    // A forward proxy for http: URLs receives the request in absolute form.
    const seen: Array<{ url: string; key: string | undefined }> = [];
    const proxy = createServer((req, res) => {
      seen.push({ url: req.url ?? '', key: req.headers['x-apikey'] as string | undefined });
      json(res, 200, { via: 'proxy' });
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    try {
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      expect((await upstream().get(['p'], context())).body).toEqual({ via: 'proxy' });
      expect(seen).toEqual([{ url: `${baseUrl}/p`, key: SECRET }]);
      expect(arrivals).toEqual([]);

      delete process.env.HTTP_PROXY;
      expect((await upstream().get(['d'], context())).body).toEqual({ ok: true });
      expect([seen.length, arrivals.length]).toEqual([1, 1]);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});

/** Resolves once `condition` holds, checking on each turn of the event loop (event-driven, no margin). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
