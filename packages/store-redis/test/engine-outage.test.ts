import { createEnricher, definePlugin, injectable, prepareProvider, type EnrichmentProvider, type ProviderOutcome } from '@x/core';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStores } from '../src/index.js';
import { captureLogger } from '@x/core/testing';
import { eventually, redisServerInstalled, startRedisServer, type TestRedisServer } from './helpers/redis-server.js';

const installed = redisServerInstalled();

let upstreamCalls = 0;

@injectable()
class CountingProvider implements EnrichmentProvider {
  async enrich(): Promise<ProviderOutcome> {
    upstreamCalls++;
    await new Promise((resolve) => setTimeout(resolve, 2));
    return { kind: 'found', verdict: 'benign', confidence: 'low', reasons: [], extracted: {}, entities: [] };
  }
}

const plugin = definePlugin({
  manifest: {
    id: 'counting',
    packageName: 'x-enrich-test-counting',
    version: '0.0.0',
    displayName: 'Counting (test)',
    description: 'Counts its calls.',
    coreRange: '>=0.1.0',
    observableTypes: ['ipv4'],
    optionsSchema: z.strictObject({}),
    defaultCacheTtlMs: {},
    defaultRateLimits: [{ requests: 10_000, perMs: 60_000 }],
    docsUrl: 'https://example.invalid/counting',
  },
  register(registrar) {
    registrar.provider(CountingProvider);
  },
});

const ips = (count: number, third: number) => Array.from({ length: count }, (_, i) => `198.18.${third}.${i + 1}`);

// Core's engine over these stores while a private Redis dies and comes back: every lookup still
// yields its record (ok with `fallback`, an X_STORE_UNAVAILABLE error with `refuse`), none hangs.
describe.skipIf(!installed)("core's engine on the Redis stores when Redis dies mid-run", () => {
  let server: TestRedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const onUnavailable of ['fallback', 'refuse'] as const) {
    it(`${onUnavailable}: one record per lookup, during and after the outage`, async () => {
      if (!(await isUp(server))) await server.start(); // a failed earlier test may have left it stopped
      const logger = captureLogger();
      const stores = await createRedisStores({ url: server.url, keyPrefix: `engine-${onUnavailable}:`, onUnavailable, logger, commandTimeoutMs: 300 });
      const enricher = createEnricher({
        providers: [prepareProvider('counting', plugin, { resilience: { retry: false } })],
        cacheStore: stores.cache,
        rateLimitStore: stores.rateLimit,
        coalescingStore: stores.coalescing,
      });
      try {
        const before = await enricher.enrich(ips(20, 1));
        expect(before.records.every((record) => record.status === 'ok')).toBe(true);

        const during = enricher.enrich(ips(200, 2));
        await server.stop();
        const { records } = await during;
        expect(records).toHaveLength(200);
        const after = await enricher.enrich(ips(20, 3));
        if (onUnavailable === 'fallback') {
          expect(after.records.every((record) => record.status === 'ok')).toBe(true);
          expect(logger.lines.filter((line) => line.obj.code === 'X_WARN_STORE_FALLBACK')).toHaveLength(1);
        } else {
          expect(after.records.map((record) => record.error?.code)).toEqual(Array.from({ length: 20 }, () => 'X_STORE_UNAVAILABLE'));
        }

        await server.start();
        await eventually(() => stores.status() === 'ready', 'the stores to reconnect');
        const recovered = await enricher.enrich(ips(20, 4));
        expect(recovered.records.every((record) => record.status === 'ok')).toBe(true);
        // Cached before the outage, in Redis: no new upstream call.
        const calls = upstreamCalls;
        const again = await enricher.enrich(ips(20, 4));
        expect(again.records.every((record) => record.cache?.hit)).toBe(true);
        expect(upstreamCalls).toBe(calls);
      } finally {
        await enricher.close();
        await stores.close();
      }
    }, 30_000);
  }
});

async function isUp(server: TestRedisServer): Promise<boolean> {
  const { Socket } = await import('node:net');
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('error', () => resolve(false));
    socket.connect(server.port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
  });
}
