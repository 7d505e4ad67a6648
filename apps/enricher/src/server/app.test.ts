import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Enricher, ProviderInfo } from '@x/core';
import { zAppConfig } from '../app-config.js';
import type { SharedStoreStats } from '../stores.js';
import { pino } from 'pino';
import type { Admission } from '../admission.js';
import { buildServer, closingAwareResponse, createControllerPool } from './app.js';
import { createServiceMetrics } from './metrics.js';

// The service over a stand-in engine: these tests are about HTTP behaviour, not lookups.
const server = zAppConfig.shape.server.parse({ shutdownGrace: 50 });
const PROVIDERS = [{ name: 'vt3', circuitState: 'closed' }] as unknown as ProviderInfo[];

function fakeEnricher(enrich: Enricher['enrich'] = async () => ({ records: [], summaries: [] })): Enricher {
  return { providers: async () => PROVIDERS, enrich } as unknown as Enricher;
}

/** An enricher whose call waits until its signal aborts, then resolves empty (as core's engine does). */
function waitingEnricher(): { enricher: Enricher; lookup: { signal?: AbortSignal } } {
  const lookup: { signal?: AbortSignal } = {};
  const enricher = fakeEnricher(
    (_observables, options) =>
      new Promise((resolve) => {
        lookup.signal = options?.signal;
        options?.signal?.addEventListener('abort', () => resolve({ records: [], summaries: [] }));
      }),
  );
  return { enricher, lookup };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(
  options: { enricher?: Enricher; sharedStores?: () => SharedStoreStats[]; shutdownSignal?: AbortSignal; logger?: FastifyBaseLogger; admission?: Admission; server?: Record<string, unknown> } = {},
): Promise<FastifyInstance> {
  app = await buildServer({
    enricher: options.enricher ?? fakeEnricher(),
    server: options.server ? zAppConfig.shape.server.parse({ shutdownGrace: 50, ...options.server }) : server,
    admission: options.admission,
    metrics: createServiceMetrics(async () => PROVIDERS),
    version: '0.0.0-test',
    sharedStores: options.sharedStores,
    shutdownSignal: options.shutdownSignal,
    logger: options.logger,
  });
  return app;
}

const redis = (status: SharedStoreStats['stats']['status']): SharedStoreStats => ({
  store: 'redis redis://***@cache:6379 x-enrich:',
  stats: { status, outages: status === 'ready' ? 0 : 1, fallbackOperations: 0, refusedOperations: status === 'unavailable' ? 12 : 0 },
});

describe('GET /healthz', () => {
  it('is ok without shared stores, and does not list any', async () => {
    const response = await (await build()).inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', providers: { vt3: { circuit: 'closed' } } });
  });

  it('is ok with Redis up, and shows its status', async () => {
    const response = await (await build({ sharedStores: () => [redis('ready')] })).inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', stores: { 'redis redis://***@cache:6379 x-enrich:': { status: 'ready' } } });
  });

  it('answers 503 "degraded", naming the store, while a refusing Redis store is down (every lookup would fail)', async () => {
    let shared = [redis('unavailable')];
    await build({ sharedStores: () => shared });
    const down = await app!.inject({ method: 'GET', url: '/healthz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({
      status: 'degraded',
      message: expect.stringContaining('redis redis://***@cache:6379 x-enrich:'),
      providers: { vt3: { circuit: 'closed' } },
      stores: { 'redis redis://***@cache:6379 x-enrich:': { status: 'unavailable' } },
    });
    // Back to ok as soon as the store is.
    shared = [redis('ready')];
    expect((await app!.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('stays 200 while a store falls back to memory (lookups still succeed), and says so', async () => {
    const response = await (await build({ sharedStores: () => [redis('degraded')] })).inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', stores: { 'redis redis://***@cache:6379 x-enrich:': { status: 'degraded' } } });
  });
});

describe('POST /v1/enrich', () => {
  it('answers 415 X_REQUEST_INVALID, saying what to send, to a form body (curl -d without a content type)', async () => {
    const response = await (await build()).inject({
      method: 'POST',
      url: '/v1/enrich',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'observables=8.8.8.8',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toEqual({
      error: {
        code: 'X_REQUEST_INVALID',
        message: 'Unsupported Media Type: send the body as JSON with Content-Type: application/json (got application/x-www-form-urlencoded).',
      },
    });
  });

  it('answers 503 X_SHUTTING_DOWN when the shutdown grace runs out mid-request, after aborting its lookups', async () => {
    const shutdown = new AbortController();
    const { enricher, lookup } = waitingEnricher();
    await build({ enricher, shutdownSignal: shutdown.signal });
    const pending = app!.inject({ method: 'POST', url: '/v1/enrich', payload: { observables: ['8.8.8.8'] } });
    // In flight: its lookups have started and nothing stopped them.
    while (!lookup.signal) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(lookup.signal.aborted).toBe(false);
    shutdown.abort();
    const response = await pending;
    expect(lookup.signal.aborted).toBe(true);
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: { code: 'X_SHUTTING_DOWN', message: expect.stringContaining('server.shutdownGrace') } });
  });
});

describe('request log', () => {
  const capture = (level: 'info' | 'error') => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level, base: undefined }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    return { lines, logger: logger as unknown as FastifyBaseLogger };
  };

  it('writes one line per request at info, without the query string, and none at error', async () => {
    const info = capture('info');
    await build({ logger: info.logger });
    expect((await app!.inject({ method: 'POST', url: '/v1/enrich?token=secret', payload: { observables: ['8.8.8.8'] } })).statusCode).toBe(200);
    expect((await app!.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(404);
    expect(info.lines.map((line) => line.msg)).toEqual([expect.stringMatching(/^POST \/v1\/enrich 200 \d+ ms$/), expect.stringMatching(/^GET \/nowhere 404 \d+ ms$/)]);
    expect(info.lines[0]).toMatchObject({ level: 30, req: { method: 'POST', path: '/v1/enrich' }, res: { statusCode: 200 } });
    await app!.close();
    const quiet = capture('error');
    await build({ logger: quiet.logger });
    await app!.inject({ method: 'POST', url: '/v1/enrich', payload: { observables: ['8.8.8.8'] } });
    expect(quiet.lines).toEqual([]);
  });
});

describe('createControllerPool', () => {
  it('hands out a controller again only when it was not aborted and nothing listens on it', () => {
    const pool = createControllerPool(2);
    const first = pool.take();
    pool.give(first);
    expect(pool.take()).toBe(first);
    const aborted = pool.take();
    aborted.abort();
    pool.give(aborted);
    expect(pool.take()).not.toBe(aborted);
    const listened = pool.take();
    listened.signal.addEventListener('abort', () => undefined);
    pool.give(listened);
    expect(pool.take()).not.toBe(listened);
  });

  it('reuses one controller for requests one after another, each given an unaborted signal', async () => {
    const seen: AbortSignal[] = [];
    const enricher = fakeEnricher(async (_observables, options) => {
      seen.push(options!.signal!);
      expect(options?.signal?.aborted).toBe(false);
      return { records: [], summaries: [] };
    });
    await build({ enricher });
    for (let i = 0; i < 3; i += 1) expect((await app!.inject({ method: 'POST', url: '/v1/enrich', payload: { observables: ['8.8.8.8'] } })).statusCode).toBe(200);
    // Reused: one controller served the three requests one after the other.
    expect(new Set(seen).size).toBe(1);
  });
});

/** An admission that admits every request and counts the ones not released yet. */
function countingAdmission(): Admission & { open: number } {
  const admission = {
    open: 0,
    tryAdmit: () => {
      admission.open += 1;
      let released = false;
      return () => {
        if (!released) admission.open -= 1;
        released = true;
      };
    },
    inUse: () => admission.open,
  };
  return admission;
}

/** A POST /v1/enrich over real TCP (keep-alive); resolves with the response and its body. */
function post(port: number, body: unknown): { request: ReturnType<typeof httpRequest>; response: Promise<{ response: IncomingMessage; text: string }> } {
  const payload = JSON.stringify(body);
  const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/enrich', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), connection: 'keep-alive' } });
  const response = new Promise<{ response: IncomingMessage; text: string }>((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ response, text }));
    });
  });
  request.end(payload);
  return { request, response };
}

async function listening(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

describe('POST /v1/enrich: answered and pending calls', () => {
  const ANSWER = { records: [], summaries: [{ observable: null, input: '8.8.8.8' }] } as unknown as Awaited<ReturnType<Enricher['enrich']>>;

  it('answers a call the engine answered at once, releases its admission and hands its controller on unaborted', async () => {
    const admission = countingAdmission();
    const seen: AbortSignal[] = [];
    const enricher = fakeEnricher((_observables, options) => {
      seen.push(options!.signal!);
      return Promise.resolve(ANSWER);
    });
    await build({ enricher, admission, server: { requestTimeout: 20 } });
    for (let i = 0; i < 2; i += 1) {
      const response = await app!.inject({ method: 'POST', url: '/v1/enrich', payload: { observables: ['8.8.8.8'] } });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(ANSWER);
      expect(admission.open).toBe(0);
    }
    // Nothing was armed for the answered calls: after the request timeout their signal is still unaborted.
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(seen.length).toBe(2);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]!.aborted).toBe(false);
  });

  it('answers 500 to a call that failed at once (rejected or thrown), and releases its admission', async () => {
    const admission = countingAdmission();
    let mode: 'reject' | 'throw' = 'reject';
    const enricher = fakeEnricher(() => {
      if (mode === 'throw') throw new Error('thrown at once');
      return Promise.reject(new Error('rejected at once'));
    });
    await build({ enricher, admission });
    for (const next of ['reject', 'throw'] as const) {
      mode = next;
      const response = await app!.inject({ method: 'POST', url: '/v1/enrich', payload: { observables: ['8.8.8.8'] } });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({ error: { code: 'X_INTERNAL' } });
      expect(admission.open).toBe(0);
    }
  });

  it('answers a pending call when it resolves, and releases its admission then', async () => {
    const admission = countingAdmission();
    let resolve: ((answer: typeof ANSWER) => void) | undefined;
    const enricher = fakeEnricher(() => new Promise((done) => (resolve = done)));
    await build({ enricher, admission });
    const pending = app!.inject({ method: 'POST', url: '/v1/enrich', payload: { observables: ['8.8.8.8'] } });
    while (!resolve) await new Promise((done) => setTimeout(done, 5));
    await new Promise((done) => setTimeout(done, 20));
    expect(admission.open).toBe(1);
    resolve(ANSWER);
    const response = await pending;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(ANSWER);
    expect(admission.open).toBe(0);
  });

  it('answers 504 X_TIMEOUT when a pending call runs past server.requestTimeout, after aborting its lookups', async () => {
    const admission = countingAdmission();
    const { enricher, lookup } = waitingEnricher();
    await build({ enricher, admission, server: { requestTimeout: 50 } });
    const started = Date.now();
    const response = await app!.inject({ method: 'POST', url: '/v1/enrich', payload: { observables: ['8.8.8.8'] } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(lookup.signal?.aborted).toBe(true);
    expect(response.statusCode).toBe(504);
    expect(response.json()).toMatchObject({ error: { code: 'X_TIMEOUT', message: expect.stringContaining('server.requestTimeout (50 ms)') } });
    expect(admission.open).toBe(0);
  });

  it('aborts the lookups of a pending call when its client hangs up, and releases its admission', async () => {
    const admission = countingAdmission();
    const { enricher, lookup } = waitingEnricher();
    await build({ enricher, admission });
    const port = await listening(app!);
    const { request, response } = post(port, { observables: ['8.8.8.8'] });
    response.catch(() => undefined);
    while (!lookup.signal) await new Promise((done) => setTimeout(done, 5));
    expect(lookup.signal.aborted).toBe(false);
    request.destroy();
    await once(lookup.signal, 'abort');
    expect(lookup.signal.aborted).toBe(true);
    while (admission.open) await new Promise((done) => setTimeout(done, 5));
    expect(admission.open).toBe(0);
  });
});

describe('connection: close while closing', () => {
  it('is not sent while the service runs, and is sent on a response that finishes while it closes', async () => {
    let resolve: ((answer: Awaited<ReturnType<Enricher['enrich']>>) => void) | undefined;
    let calls = 0;
    const enricher = fakeEnricher((): Promise<Awaited<ReturnType<Enricher['enrich']>>> => {
      calls += 1;
      return calls === 1 ? Promise.resolve({ records: [], summaries: [] }) : new Promise((done) => (resolve = done));
    });
    await build({ enricher });
    const port = await listening(app!);
    const running = await post(port, { observables: ['8.8.8.8'] }).response;
    expect(running.response.statusCode).toBe(200);
    expect(running.response.headers.connection).toBe('keep-alive');
    const inFlight = post(port, { observables: ['8.8.8.8'] }).response;
    while (!resolve) await new Promise((done) => setTimeout(done, 5));
    const closed = app!.close();
    // preClose has run (closing) once the server stopped listening.
    while (app!.server.listening) await new Promise((done) => setTimeout(done, 5));
    resolve({ records: [], summaries: [] });
    const finished = await inFlight;
    expect(finished.response.statusCode).toBe(200);
    expect(finished.response.headers.connection).toBe('close');
    expect(JSON.parse(finished.text)).toEqual({ records: [], summaries: [] });
    await closed;
    app = undefined;
  });

  it('closingAwareResponse: adds it to heads written explicitly and implicitly, only while closing', async () => {
    let closing = false;
    const server = createServer({ ServerResponse: closingAwareResponse(() => closing) }, (request, response) => {
      if (request.url === '/explicit') response.writeHead(200, { 'content-type': 'text/plain' }).end('explicit');
      else {
        // A stream: the head goes out implicitly with the first write (as the MCP transport's events).
        response.setHeader('content-type', 'text/event-stream');
        response.write('data: 1\n\n');
        response.end();
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const get = (path: string) =>
      new Promise<{ connection: string | undefined; type: string | undefined; text: string }>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, path, headers: { connection: 'keep-alive' } }, (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ connection: response.headers.connection, type: response.headers['content-type'], text }));
        })
          .on('error', reject)
          .end();
      });
    try {
      expect(await get('/explicit')).toEqual({ connection: 'keep-alive', type: 'text/plain', text: 'explicit' });
      expect(await get('/stream')).toEqual({ connection: 'keep-alive', type: 'text/event-stream', text: 'data: 1\n\n' });
      closing = true;
      expect(await get('/explicit')).toEqual({ connection: 'close', type: 'text/plain', text: 'explicit' });
      expect(await get('/stream')).toEqual({ connection: 'close', type: 'text/event-stream', text: 'data: 1\n\n' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
