import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { Redis } from 'ioredis';

/** The shared test server (never stopped by the tests); override with X_ENRICH_TEST_REDIS_URL. */
export const SHARED_REDIS_URL = process.env.X_ENRICH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || 6379), hostname, () => done(true));
  });
}

/**
 * Whether the shared Redis can be used. In CI (CI=true) an unreachable Redis fails the suite
 * loudly (the issue requires CI to run these tests); locally it prints a warning and the
 * caller skips.
 */
export async function sharedRedisAvailable(): Promise<boolean> {
  if (await reachable(SHARED_REDIS_URL)) return true;
  const message = `@x/store-redis: no Redis at ${SHARED_REDIS_URL}; the Redis store tests cannot run. Start one (redis-server) or set X_ENRICH_TEST_REDIS_URL.`;
  if (process.env.CI && process.env.CI !== 'false') throw new Error(`${message} (CI=true: failing instead of skipping)`);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: ${message}\n${'!'.repeat(100)}\n`);
  return false;
}

/** A key prefix no other test (or deployment) uses. */
export function randomPrefix(): string {
  return `x-enrich-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (tests clean up after themselves on the shared server). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await client.unlink(...found);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A plain client for inspecting what the stores wrote. */
export function inspector(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}
