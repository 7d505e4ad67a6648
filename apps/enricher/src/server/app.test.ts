import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Enricher, ProviderInfo } from '@x/core';
import { zAppConfig } from '../app-config.js';
import type { SharedStoreStats } from '../stores.js';
import { pino } from 'pino';
import { buildServer, createControllerPool } from './app.js';
import { createServiceMetrics } from './metrics.js';

// The service over a stand-in engine: these tests are about HTTP behaviour, not lookups.
const server = zAppConfig.shape.server.parse({ shutdownGrace: 50 });
const PROVIDERS = [{ name: 'vt3', circuitState: 'closed' }] as unknown as ProviderInfo[];

function fakeEnricher(enrich: Enricher['enrich'] = async () => ({ records: [], summaries: [] })): Enricher {
  return { providers: async () => PROVIDERS, enrich } as unknown as Enricher;
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(options: { enricher?: Enricher; sharedStores?: () => SharedStoreStats[]; shutdownSignal?: AbortSignal; logger?: FastifyBaseLogger } = {}): Promise<FastifyInstance> {
  app = await buildServer({
    enricher: options.enricher ?? fakeEnricher(),
    server,
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
    let lookupSignal: AbortSignal | undefined;
    const enricher = fakeEnricher(
      (_observables, options) =>
        new Promise((resolve) => {
          lookupSignal = options?.signal;
          // Like core's engine: an aborted run resolves with what it has.
          options?.signal?.addEventListener('abort', () => resolve({ records: [], summaries: [] }));
        }),
    );
    await build({ enricher, shutdownSignal: shutdown.signal });
    const pending = app!.inject({ method: 'POST', url: '/v1/enrich', payload: { observables: ['8.8.8.8'] } });
    // In flight: its lookups have started and nothing stopped them.
    while (!lookupSignal) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(lookupSignal.aborted).toBe(false);
    shutdown.abort();
    const response = await pending;
    expect(lookupSignal.aborted).toBe(true);
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
