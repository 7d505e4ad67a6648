import { describe, expect, it, vi } from 'vitest';
import { createMemoryCacheStore } from '../../cache/memory-cache-store.js';
import { XEnrichError } from '../../contract/x-enrich-error.js';
import type { ProviderOutcome } from '../../contract/provider.js';
import type { CacheStore } from '../../contract/cache-store.js';
import { captureLogger } from '../../testing/capture.js';
import { createFakeClock, type FakeClock } from '../../testing/fake-clock.js';
import { CacheStage } from './cache.js';
import type { FetchResult, LookupContext } from './stage.js';

const FOUND: ProviderOutcome = { kind: 'found', verdict: 'malicious', confidence: 'high', reasons: [], extracted: { score: 9 }, entities: [], raw: { big: true } };
const context = (value = '10.0.0.1', extra: Partial<LookupContext> = {}): LookupContext => ({ observable: { type: 'ipv4', value }, key: `i:f:ipv4:${value}`, signal: undefined, refresh: false, ...extra });

function setup(makeStore: (clock: FakeClock) => CacheStore = (clock) => createMemoryCacheStore({ clock })) {
  const clock = createFakeClock();
  const store = makeStore(clock);
  const logger = captureLogger();
  const stage = new CacheStage({ instance: 'vt', store, ttlMs: { ipv4: 60_000 }, notFoundTtlMs: 10_000, clock, logger });
  // The chain below the writer: fetches `outcome` at the clock's time.
  const fetched: string[] = [];
  const fetch = (outcome: ProviderOutcome) => async (c: LookupContext): Promise<FetchResult> => (fetched.push(c.key), { outcome, fetchedAt: clock.now(), fromCache: false });
  return { clock, logger, stage, fetched, fetch, store };
}

/** A store without the memory store's synchronous read, as Redis or the file store are. */
function asyncStore(clock: FakeClock): CacheStore {
  const inner = createMemoryCacheStore({ clock });
  return { get: (key) => inner.get(key), set: (key, entry) => inner.set(key, entry), delete: (key) => inner.delete(key), clear: () => inner.clear() } as CacheStore;
}

describe('cache stage', () => {
  it('answers a fresh entry without calling the rest of the chain, until its TTL passes on the clock', async () => {
    const { stage, clock, fetched, fetch } = setup();
    await stage.writer.execute(context(), fetch(FOUND));
    expect(fetched).toHaveLength(1);
    const storedAt = clock.now();

    await clock.advance(59_999);
    const hit = await stage.execute(context(), fetch(FOUND));
    expect(hit).toMatchObject({ fromCache: true, fetchedAt: storedAt, outcome: { kind: 'found', verdict: 'malicious' } });
    expect(stage.readSync(context().key)).toMatchObject({ storedAt });
    expect(fetched).toHaveLength(1);

    await clock.advance(1);
    expect(stage.readSync(context().key)).toBeUndefined();
    expect(await stage.execute(context(), fetch(FOUND))).toMatchObject({ fromCache: false });
    expect(fetched).toHaveLength(2);
  });

  it('keeps not-found for the not-found TTL, never pending, and never the raw response', async () => {
    const { stage, clock, fetch } = setup();
    await stage.writer.execute(context('10.0.0.1'), fetch(FOUND));
    await stage.writer.execute(context('10.0.0.2'), fetch({ kind: 'not_found' }));
    await stage.writer.execute(context('10.0.0.3'), fetch({ kind: 'pending' }));
    expect(stage.readSync(context('10.0.0.1').key)?.value).not.toHaveProperty('raw');
    expect(stage.readSync(context('10.0.0.3').key)).toBeUndefined();
    await clock.advance(10_000);
    expect(stage.readSync(context('10.0.0.2').key)).toBeUndefined();
    expect(stage.readSync(context('10.0.0.1').key)).toBeDefined();
  });

  it('gives the fetched outcome back unchanged (raw included) while storing it without raw', async () => {
    const { stage, fetch } = setup();
    const result = await stage.execute(context(), (c) => stage.writer.execute(c, fetch(FOUND)));
    expect(result.outcome).toBe(FOUND);
  });

  it('skips the read on refresh, and still writes', async () => {
    const { stage, clock, fetched, fetch } = setup();
    await stage.writer.execute(context(), fetch(FOUND));
    await clock.advance(1_000);
    const fresh = await stage.execute(context('10.0.0.1', { refresh: true }), (c) => stage.writer.execute(c, fetch({ kind: 'not_found' })));
    expect(fresh).toMatchObject({ fromCache: false, outcome: { kind: 'not_found' } });
    expect(fetched).toHaveLength(2);
    expect(stage.readSync(context().key)?.value).toEqual({ kind: 'not_found' });
  });

  it('after another process fetched, reads its entry instead of fetching, and fetches when it never came', async () => {
    const { stage, clock, fetched, fetch, store } = setup(asyncStore);
    await store.set(context('10.0.0.1').key, { value: { kind: 'not_found' }, storedAt: clock.now() - 5, expiresAt: clock.now() + 1_000 });
    expect(await stage.writer.execute(context('10.0.0.1', { fetchedElsewhere: true }), fetch(FOUND))).toMatchObject({ fromCache: true, outcome: { kind: 'not_found' } });
    expect(fetched).toEqual([]);
    expect(await stage.writer.execute(context('10.0.0.2', { fetchedElsewhere: true }), fetch(FOUND))).toMatchObject({ fromCache: false });
    expect(fetched).toEqual([context('10.0.0.2').key]);
  });

  it('reads and writes a store without a synchronous read through its promises', async () => {
    const { stage, fetched, fetch } = setup(asyncStore);
    expect(stage.readsSync).toBe(false);
    expect(stage.readSync(context().key)).toBeUndefined();
    await stage.execute(context(), (c) => stage.writer.execute(c, fetch(FOUND)));
    expect(await stage.execute(context(), fetch(FOUND))).toMatchObject({ fromCache: true });
    expect(fetched).toHaveLength(1);
  });

  it('treats a failing read as a miss and a failing write as a warning, but passes X_STORE_UNAVAILABLE on', async () => {
    let failure: Error = new Error('disk full');
    const broken: CacheStore = {
      get: vi.fn(async () => {
        throw failure;
      }),
      set: vi.fn(async () => {
        throw failure;
      }),
    } as unknown as CacheStore;
    const { stage, logger, fetch } = setup(() => broken);
    expect(await stage.execute(context(), (c) => stage.writer.execute(c, fetch(FOUND)))).toMatchObject({ fromCache: false, outcome: FOUND });
    expect(logger.lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'cache read failed; treating as a miss'],
      ['warn', 'cache write failed'],
    ]);
    failure = new XEnrichError('X_STORE_UNAVAILABLE', 'Redis is down.');
    await expect(stage.execute(context(), fetch(FOUND))).rejects.toMatchObject({ code: 'X_STORE_UNAVAILABLE' });
  });

  it('answers a cache-only lookup from the cache, and rejects its miss with X_NOT_CACHED without going further', async () => {
    for (const makeStore of [(clock: FakeClock) => createMemoryCacheStore({ clock }), asyncStore]) {
      const { stage, fetched, fetch } = setup(makeStore);
      await stage.writer.execute(context('10.0.0.1'), fetch(FOUND));
      await expect(stage.execute(context('10.0.0.1', { cacheOnly: true }), fetch(FOUND))).resolves.toMatchObject({ fromCache: true });
      await expect(stage.execute(context('10.0.0.2', { cacheOnly: true }), fetch(FOUND))).rejects.toMatchObject({
        code: 'X_NOT_CACHED',
        message: expect.stringMatching(/Instance "vt" has no unexpired cached result/),
      });
      expect(fetched).toHaveLength(1);
    }
  });

  it('stores nothing for a TTL of 0', async () => {
    const clock = createFakeClock();
    const stage = new CacheStage({ instance: 'vt', store: createMemoryCacheStore(), ttlMs: { ipv4: 0 }, notFoundTtlMs: 0, clock, logger: captureLogger() });
    expect(stage.entryFor({ type: 'ipv4', value: '1.1.1.1' }, FOUND, clock.now())).toBeUndefined();
    expect(stage.entryFor({ type: 'ipv4', value: '1.1.1.1' }, { kind: 'not_found' }, clock.now())).toBeUndefined();
    expect(stage.entryFor({ type: 'domain', value: 'example.org' }, FOUND, clock.now())).toMatchObject({ expiresAt: clock.now() + 3_600_000 });
  });
});
