import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUpstreamError, isXEnrichError, type UpstreamError } from '../errors/x-enrich-error.js';
import type { RateLimiter } from '../stores/rate-limit-store.js';
import { createHttpClient } from './http-client.js';
import { parseRetryAfter } from './upstream-error-mapping.js';

const SECRET = 'sk-test-9f8e7d6c5b4a';
let server: Server;
let baseURL: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const status = Number(url.pathname.split('/')[2]);
    if (url.pathname === '/ok') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, key: req.headers['x-apikey'] === SECRET }));
    } else if (url.pathname.startsWith('/status/')) {
      if (status === 429) res.setHeader('retry-after', '7');
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { code: status === 429 ? 'QuotaExceededError' : 'SomeError', message: `upstream says ${status}` } }));
    } else if (url.pathname === '/reset') {
      req.socket.destroy();
    } else if (url.pathname === '/garbage') {
      res.setHeader('content-type', 'application/json');
      res.end('<html>not json');
    } else if (url.pathname === '/slow') {
      setTimeout(() => res.end('{}'), 2_000).unref();
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function countingLimiter(): RateLimiter & { calls: number } {
  return {
    calls: 0,
    waitedMs: 0,
    async acquire() {
      this.calls++;
      return { settle: async () => undefined, refused: async () => undefined };
    },
    async remaining() {
      return [];
    },
  };
}

async function failure(path: string, timeoutMs?: number): Promise<UpstreamError> {
  const client = createHttpClient({ baseURL, secrets: [SECRET], timeoutMs, headers: { 'x-apikey': SECRET } });
  const error = await client.get(path, { params: { apikey: SECRET } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isUpstreamError(error)).toBe(true);
  const upstream = error as UpstreamError;
  // Nothing that left the client may carry the secret, the query string or the axios error.
  expect(upstream.message).not.toContain(SECRET);
  expect(upstream.message).not.toContain('apikey=');
  expect(upstream.cause).toBeUndefined();
  expect(JSON.stringify({ ...upstream, message: upstream.message, stack: upstream.stack })).not.toContain(SECRET);
  return upstream;
}

describe('http client', () => {
  it('waits for one unit of rate-limit budget before every request', async () => {
    const limiter = countingLimiter();
    const client = createHttpClient({ baseURL, rateLimiter: limiter, headers: { 'x-apikey': SECRET } });
    const response = await client.get('/ok');
    await client.get('/ok');
    expect(response.data).toEqual({ ok: true, key: true });
    expect(limiter.calls).toBe(2);
  });

  it('maps 401 and 403 to auth, not retryable', async () => {
    for (const status of [401, 403]) {
      const error = await failure(`/status/${status}`);
      expect(error).toMatchObject({ kind: 'auth', code: 'X_UPSTREAM_AUTH', status, retryable: false });
      expect(error.message).toContain(`GET /status/${status} failed: HTTP ${status}`);
    }
  });

  it('maps 429 to quota with Retry-After and the upstream code', async () => {
    const error = await failure('/status/429');
    expect(error).toMatchObject({ kind: 'quota', retryable: true, retryAfterMs: 7_000, upstreamCode: 'QuotaExceededError' });
  });

  it('maps 400 to bad_request and 404 to a non-retryable http error', async () => {
    expect(await failure('/status/400')).toMatchObject({ kind: 'bad_request', retryable: false });
    expect(await failure('/status/404')).toMatchObject({ kind: 'http', status: 404, retryable: false });
  });

  it('maps 5xx to a retryable http error', async () => {
    expect(await failure('/status/503')).toMatchObject({ kind: 'http', status: 503, retryable: true });
  });

  it('maps a reset connection to network and a slow one to timeout', async () => {
    expect(await failure('/reset')).toMatchObject({ kind: 'network', retryable: true });
    expect(await failure('/slow', 50)).toMatchObject({ kind: 'timeout', code: 'X_TIMEOUT', retryable: true });
  });

  it('maps a refused connection to network', async () => {
    const client = createHttpClient({ baseURL: 'http://127.0.0.1:1', secrets: [SECRET] });
    const error = await client.get('/x', { params: { apikey: SECRET } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'network', code: 'X_UPSTREAM_NETWORK' });
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('maps a 2xx body that is not JSON to bad_response', async () => {
    expect(await failure('/garbage')).toMatchObject({ kind: 'bad_response', retryable: false });
  });

  it('redacts a secret that sits in the path', async () => {
    const error = await failure(`/status/403/${SECRET}`);
    expect(error.message).toContain('/status/403/[REDACTED]');
  });

  it('reports an aborted request as X_ABORTED', async () => {
    const client = createHttpClient({ baseURL });
    const controller = new AbortController();
    const pending = client.get('/slow', { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    const error = await pending;
    expect(isXEnrichError(error) && error.code).toBe('X_ABORTED');
  });

  it('lets a provider accept 404 itself', async () => {
    const client = createHttpClient({ baseURL, validateStatus: (s) => s < 300 || s === 404 });
    expect((await client.get('/status/404')).status).toBe(404);
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
