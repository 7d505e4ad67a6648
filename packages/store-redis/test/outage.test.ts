import { isXEnrichError, zEnricherConfig } from '@x/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStores, zRedisStoresOptions } from '../src/index.js';
import { captureLogger } from '@x/core/testing';
import { eventually, redisServerInstalled, startRedisServer, type TestRedisServer } from './helpers/redis-server.js';

const installed = redisServerInstalled();
const entry = (value: unknown) => ({ value, storedAt: Date.now(), expiresAt: Date.now() + 60_000 });
const MINUTE = [{ requests: 100, perMs: 60_000 }];

// These tests own a private redis-server (stopped, frozen and restarted here); the shared one is never touched.
describe.skipIf(!installed)('when Redis fails mid-run', () => {
  let server: TestRedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function open(onUnavailable: 'fallback' | 'refuse', extra: Record<string, unknown> = {}) {
    const logger = captureLogger();
    const stores = await createRedisStores({ url: server.url, keyPrefix: 'outage:', onUnavailable, logger, commandTimeoutMs: 300, connectTimeoutMs: 300, ...extra });
    return { stores, logger };
  }

  it('fallback: keeps serving from memory with one warning, then switches back when Redis returns', async () => {
    const { stores, logger } = await open('fallback');
    try {
      expect(stores.status()).toBe('ready');
      await stores.cache.set('before', entry('in redis'));

      // Lookups in flight while Redis dies: none may throw or hang.
      const running = Array.from({ length: 200 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i));
        await stores.cache.set(`k${i}`, entry(i));
        await stores.cache.get(`k${i}`);
        return stores.rateLimit.tryAcquire('vt3', MINUTE, 1, Date.now());
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await server.stop();
      const attempts = await Promise.all(running);
      expect(attempts.every((attempt) => typeof attempt.granted === 'boolean')).toBe(true);

      expect(stores.status()).toBe('degraded');
      await stores.cache.set('during', entry('in memory'));
      expect((await stores.cache.get('during'))?.value).toBe('in memory');
      expect(await stores.coalescing.claim('k', 1_000)).toBe(true);
      expect(await stores.coalescing.waitFor('k', 1_000)).toBe(true);
      const warnings = logger.lines.filter((line) => line.obj.code === 'X_WARN_STORE_FALLBACK');
      expect(warnings).toHaveLength(1);
      expect(stores.stats()).toMatchObject({ status: 'degraded', outages: 1 });
      expect(stores.stats().fallbackOperations).toBeGreaterThan(0);
      // A clear that cannot reach Redis says so instead of pretending the shared cache is empty.
      await expect(stores.cache.clear()).rejects.toMatchObject({ code: 'X_STORE_UNAVAILABLE', message: expect.stringMatching(/shared cache was not cleared/) });
      expect(await stores.cache.get('during')).toBeUndefined(); // this process's fallback entries were
      await stores.cache.set('during', entry('in memory'));

      await server.start();
      await eventually(() => stores.status() === 'ready', 'the stores to reconnect');
      // Back on Redis: the memory-only entry is not there, a new one goes to Redis.
      expect(await stores.cache.get('during')).toBeUndefined();
      await stores.cache.set('after', entry('in redis again'));
      expect((await stores.cache.get('after'))?.value).toBe('in redis again');
      expect(logger.lines.some((line) => line.level === 'info' && /reachable again/.test(line.msg ?? ''))).toBe(true);
    } finally {
      await stores.close();
    }
  });

  it('refuse: throws X_STORE_UNAVAILABLE at once while Redis is down, and works again when it returns', async () => {
    const { stores } = await open('refuse');
    try {
      await stores.cache.set('k', entry(1));
      await server.stop();
      const failures = await Promise.all([
        stores.cache.get('k').catch((error: unknown) => error),
        stores.cache.set('k', entry(2)).catch((error: unknown) => error),
        stores.rateLimit.tryAcquire('vt3', MINUTE, 1, Date.now()).catch((error: unknown) => error),
        stores.rateLimit.peek('vt3', MINUTE, Date.now()).catch((error: unknown) => error),
        stores.coalescing.claim('k', 1_000).catch((error: unknown) => error),
        stores.coalescing.waitFor('k', 1_000).catch((error: unknown) => error),
      ]);
      for (const failure of failures) {
        expect(isXEnrichError(failure)).toBe(true);
        expect(failure).toMatchObject({ code: 'X_STORE_UNAVAILABLE', retryable: true });
      }
      expect(stores.status()).toBe('unavailable');
      expect(stores.stats().refusedOperations).toBe(6);

      await server.start();
      await eventually(() => stores.status() === 'ready', 'the stores to reconnect');
      await stores.cache.set('k', entry(3));
      expect((await stores.cache.get('k'))?.value).toBe(3);
    } finally {
      await stores.close();
    }
  });

  it('a frozen server (accepts nothing, closes nothing) fails commands within the command timeout', async () => {
    const { stores } = await open('refuse');
    try {
      await stores.cache.set('k', entry(1));
      server.freeze();
      await expect(stores.cache.get('k')).rejects.toMatchObject({ code: 'X_STORE_UNAVAILABLE' });
    } finally {
      server.thaw();
      await stores.close();
    }
    // The server is healthy again for the next test.
    const { stores: again } = await open('refuse');
    await eventually(() => again.status() === 'ready', 'a fresh connection');
    await again.close();
  });

  it('a stalled then resumed server (SIGSTOP, SIGCONT, no disconnect) is marked up again by the next command that succeeds', async () => {
    const { stores, logger } = await open('refuse');
    try {
      await stores.cache.set('k', entry(1));
      server.freeze();
      await expect(stores.cache.get('k')).rejects.toMatchObject({ code: 'X_STORE_UNAVAILABLE' });
      expect(stores.stats()).toMatchObject({ status: 'unavailable', outages: 1 });
      server.thaw();
      // The connection never closed, so ioredis emits no `ready`: only a successful command can tell.
      // While the status says down, `refuse` still sends commands when the client is connected.
      await eventually(async () => (await stores.cache.get('k').catch(() => undefined))?.value === 1, 'a command to succeed after SIGCONT');
      expect(stores.status()).toBe('ready');
      expect(stores.stats()).toMatchObject({ status: 'ready', outages: 1 });
      expect(logger.lines.filter((line) => line.level === 'info' && /reachable again/.test(line.msg ?? ''))).toHaveLength(1);
    } finally {
      server.thaw();
      await stores.close();
    }
  });

  it('starts degraded when Redis is down at start-up, without throwing, and connects when it comes up', async () => {
    await server.stop();
    const { stores, logger } = await open('fallback', { startupWaitMs: 200 });
    try {
      expect(stores.status()).toBe('degraded');
      expect((await stores.rateLimit.tryAcquire('vt3', MINUTE, 1, Date.now())).granted).toBe(true);
      expect(logger.lines.filter((line) => line.obj.code === 'X_WARN_STORE_FALLBACK')).toHaveLength(1);
      await server.start();
      await eventually(() => stores.status() === 'ready', 'the first connection');
    } finally {
      await stores.close();
    }
  });

  it('never logs the password of the Redis URL', async () => {
    await server.stop();
    const { stores, logger } = await open('refuse', { url: `redis://:hunter2-secret@127.0.0.1:${server.port}`, startupWaitMs: 100 });
    try {
      const error = await stores.cache.get('k').catch((e: unknown) => e as Error);
      expect(logger.lines.length).toBeGreaterThan(0);
      expect(logger.text()).not.toContain('hunter2-secret');
      expect(JSON.stringify({ message: (error as Error).message, details: (error as { details?: unknown }).details })).not.toContain('hunter2-secret');
      expect((error as Error).message).toContain('[REDACTED]');
    } finally {
      await stores.close();
      await server.start();
    }
  });

  it('coalescing wakes waiters by pub/sub again after Redis restarts (the subscription is restored)', async () => {
    const fetcher = await open('fallback', { coalescePollMs: 60_000 });
    const waiter = await open('fallback', { coalescePollMs: 60_000 });
    try {
      // Subscribe once while Redis is up, then restart it.
      expect(await waiter.stores.coalescing.waitFor('warm-up', 1_000)).toBe(true);
      await server.stop();
      await server.start();
      await eventually(() => fetcher.stores.status() === 'ready' && waiter.stores.status() === 'ready', 'both to reconnect');

      // With a 60 s poll, only a pub/sub message can wake a waiter within 1 s: once the
      // subscriber has reconnected (on its own schedule), every release must wake it.
      let probe = 0;
      await eventually(async () => {
        const key = `probe-${probe++}`;
        expect(await fetcher.stores.coalescing.claim(key, 30_000)).toBe(true);
        const waiting = waiter.stores.coalescing.waitFor(key, 1_000);
        await new Promise((resolve) => setTimeout(resolve, 20));
        await fetcher.stores.coalescing.release(key);
        return waiting;
      }, 'a release to wake the waiter through pub/sub');
    } finally {
      await fetcher.stores.close();
      await waiter.stores.close();
    }
  });

  it('refuses operations after close()', async () => {
    const { stores } = await open('fallback');
    await stores.close();
    expect(stores.status()).toBe('closed');
    await expect(stores.cache.get('k')).rejects.toMatchObject({ code: 'X_STORE_UNAVAILABLE' });
  });
});

describe('options', () => {
  it('rejects an invalid URL and prefix with every problem listed', async () => {
    const error = await createRedisStores({ url: 'http://nope', keyPrefix: 'a{b}' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'X_CONFIG_INVALID' });
    expect((error as Error).message).toMatch(/url: must start with redis:\/\//);
    expect((error as Error).message).toMatch(/keyPrefix: must not contain/);
  });
});

describe("core's config sections", () => {
  it("accepts a `cache: { store: 'redis', ... }` section unchanged", () => {
    const section = zEnricherConfig.parse({ providers: {}, cache: { store: 'redis', keyPrefix: 'deploy-a:' } }).cache;
    expect(zRedisStoresOptions.safeParse(section).success).toBe(true);
    const limits = zEnricherConfig.parse({ providers: {}, rateLimitStore: { store: 'redis', onUnavailable: 'refuse' } }).rateLimitStore;
    expect(zRedisStoresOptions.parse(limits)).toMatchObject({ onUnavailable: 'refuse', url: 'redis://127.0.0.1:6379' });
  });
});
