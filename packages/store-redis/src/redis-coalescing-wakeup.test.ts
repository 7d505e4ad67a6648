import { Redis } from 'ioredis';
import { silentLogger } from '@x/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Availability } from './availability.js';
import { KeyLayout } from './keys.js';
import { createRedisCoalescingStore } from './redis-coalescing-store.js';
import { deleteKeys, randomPrefix, SHARED_REDIS_URL, sharedRedisAvailable } from '../test/helpers/redis.js';

const available = await sharedRedisAvailable();

/**
 * The interleaving that made "wakes a waiter in another process when the fetcher releases" fail
 * on a loaded machine, forced instead of hoped for: the waiter's first EXISTS is answered
 * "claimed" by Redis before the release, but its reply is handled only after the release
 * message. The message used to be dropped (a check was in flight), and the waiter slept until
 * the next poll (here: a minute, far past the test's timeout).
 */
describe.skipIf(!available)('Redis coalescing store: a release message during an in-flight check', () => {
  let prefix: string;
  let clients: Redis[];

  beforeEach(() => {
    prefix = randomPrefix();
    clients = [];
  });
  afterEach(async () => {
    for (const client of clients) client.disconnect();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  function store(client: Redis) {
    clients.push(client);
    const keys = new KeyLayout(prefix);
    return createRedisCoalescingStore({
      client,
      createSubscriber: () => {
        const subscriber = client.duplicate();
        clients.push(subscriber);
        return subscriber;
      },
      keys,
      availability: new Availability(client, 'fallback', silentLogger, 'test'),
      logger: silentLogger,
      pollMs: 60_000,
      recentMs: 1_000,
    });
  }

  it('checks again after the in-flight check instead of dropping the wake', async () => {
    const fetcherClient = new Redis(SHARED_REDIS_URL);
    const waiterClient = new Redis(SHARED_REDIS_URL);
    await Promise.all([fetcherClient, waiterClient].map((client) => new Promise((resolve) => client.once('ready', resolve))));
    const fetcher = store(fetcherClient);
    const waiter = store(waiterClient);
    expect(await fetcher.claim('k', 10_000)).toBe(true);

    // Hold back the reply to the waiter's first EXISTS until the release message was handled.
    const realExists = waiterClient.exists.bind(waiterClient);
    let firstAnswered!: () => void;
    const answered = new Promise<void>((resolve) => (firstAnswered = resolve));
    let releaseHandled!: () => void;
    const handled = new Promise<void>((resolve) => (releaseHandled = resolve));
    let calls = 0;
    (waiterClient as unknown as { exists: (key: string) => Promise<number> }).exists = async (key: string) => {
      const reply = await realExists(key);
      if (++calls === 1) {
        firstAnswered();
        await handled;
      }
      return reply;
    };

    const waiting = waiter.waitFor('k', 30_000);
    await answered; // Redis said "claimed"; the waiter has not seen the reply yet
    const subscriber = clients.at(-1)!;
    subscriber.once('message', () => setImmediate(releaseHandled)); // after the store's own listener ran
    await fetcher.release('k');
    expect(await waiting).toBe(true);
    expect(calls).toBe(2);
  });
});
