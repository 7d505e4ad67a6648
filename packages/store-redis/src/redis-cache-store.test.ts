import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisStores, type RedisStores } from './index.js';
import { deleteKeys, inspector, randomPrefix, SHARED_REDIS_URL, sharedRedisAvailable } from '../test/helpers/redis.js';

const available = await sharedRedisAvailable();

describe.skipIf(!available)('Redis cache store', () => {
  let prefix: string;
  let stores: RedisStores;
  const redis: Redis = inspector(SHARED_REDIS_URL);

  beforeEach(async () => {
    prefix = randomPrefix();
    stores = await createRedisStores({ url: SHARED_REDIS_URL, keyPrefix: prefix, onUnavailable: 'refuse' });
  });
  afterEach(async () => {
    await stores.close();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });
  afterAll(() => redis.disconnect());

  it('round-trips an entry with its provenance (value, storedAt, expiresAt)', async () => {
    const storedAt = Date.now() - 5_000;
    const entry = { value: { status: 'found', verdict: 'malicious', fields: { positives: 65, total: 71 } }, storedAt, expiresAt: Date.now() + 60_000 };
    await stores.cache.set('vt3:abc:sha256:00ff', entry);
    expect(await stores.cache.get('vt3:abc:sha256:00ff')).toEqual(entry);
    expect(stores.status()).toBe('ready');
  });

  it('misses on an unknown key without throwing', async () => {
    expect(await stores.cache.get('vt3:abc:domain:nowhere.example')).toBeUndefined();
  });

  it('stores the entry under the prefix with a Redis TTL of expiresAt - now', async () => {
    await stores.cache.set('k', { value: 1, storedAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
    const ttl = await redis.pttl(`${prefix}cache:k`);
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    expect(JSON.parse((await redis.get(`${prefix}cache:k`)) as string)).toMatchObject({ value: 1 });
  });

  it('does not store an entry that is already stale, and drops an older copy', async () => {
    await stores.cache.set('k', { value: 'old', storedAt: Date.now(), expiresAt: Date.now() + 60_000 });
    await stores.cache.set('k', { value: 'stale', storedAt: Date.now() - 10_000, expiresAt: Date.now() - 1 });
    expect(await stores.cache.get('k')).toBeUndefined();
    expect(await redis.exists(`${prefix}cache:k`)).toBe(0);
  });

  it('treats an entry whose expiresAt has passed as a miss even before Redis expires it', async () => {
    await redis.set(`${prefix}cache:k`, JSON.stringify({ value: 1, storedAt: 0, expiresAt: Date.now() - 1 }), 'PX', 60_000);
    expect(await stores.cache.get('k')).toBeUndefined();
  });

  it('treats a malformed entry as a miss and deletes it', async () => {
    await redis.set(`${prefix}cache:bad`, '{not json', 'PX', 60_000);
    await redis.set(`${prefix}cache:shape`, JSON.stringify({ value: 1 }), 'PX', 60_000);
    expect(await stores.cache.get('bad')).toBeUndefined();
    expect(await stores.cache.get('shape')).toBeUndefined();
    expect(await redis.exists(`${prefix}cache:bad`, `${prefix}cache:shape`)).toBe(0);
  });

  it('deletes one entry', async () => {
    await stores.cache.set('a', { value: 1, storedAt: Date.now(), expiresAt: Date.now() + 60_000 });
    await stores.cache.delete('a');
    expect(await stores.cache.get('a')).toBeUndefined();
  });

  it('keeps deployments with different prefixes apart, and clear() only clears its own', async () => {
    const otherPrefix = randomPrefix();
    const other = await createRedisStores({ url: SHARED_REDIS_URL, keyPrefix: otherPrefix });
    try {
      const entry = (value: string) => ({ value, storedAt: Date.now(), expiresAt: Date.now() + 60_000 });
      await stores.cache.set('same-key', entry('mine'));
      await other.cache.set('same-key', entry('theirs'));
      expect((await stores.cache.get('same-key'))?.value).toBe('mine');
      expect((await other.cache.get('same-key'))?.value).toBe('theirs');

      await stores.cache.clear();
      expect(await stores.cache.get('same-key')).toBeUndefined();
      expect((await other.cache.get('same-key'))?.value).toBe('theirs');
    } finally {
      await other.close();
      await deleteKeys(SHARED_REDIS_URL, otherPrefix);
    }
  });

  it('clears many entries (paged SCAN), and a prefix with glob characters matches only itself', async () => {
    const globPrefix = `${prefix}[a*]?:`;
    const globby = await createRedisStores({ url: SHARED_REDIS_URL, keyPrefix: globPrefix });
    const lookalike = await createRedisStores({ url: SHARED_REDIS_URL, keyPrefix: `${prefix}ab:` });
    try {
      const entry = { value: 1, storedAt: Date.now(), expiresAt: Date.now() + 60_000 };
      await Promise.all(Array.from({ length: 2_500 }, (_, i) => globby.cache.set(`k${i}`, entry)));
      await lookalike.cache.set('k1', entry);
      await globby.cache.clear();
      expect(await globby.cache.get('k1')).toBeUndefined();
      expect(await globby.cache.get('k2499')).toBeUndefined();
      expect(await lookalike.cache.get('k1')).toEqual(entry);
    } finally {
      await globby.close();
      await lookalike.close();
    }
  });

  it('is shared: what one process stores, another reads', async () => {
    const second = await createRedisStores({ url: SHARED_REDIS_URL, keyPrefix: prefix });
    try {
      const entry = { value: { verdict: 'benign' }, storedAt: Date.now(), expiresAt: Date.now() + 60_000 };
      await stores.cache.set('shared', entry);
      expect(await second.cache.get('shared')).toEqual(entry);
    } finally {
      await second.close();
    }
  });
});
