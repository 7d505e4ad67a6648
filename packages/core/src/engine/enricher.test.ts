import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  UpstreamError,
  createEnricher,
  createMemoryCacheStore,
  zObservableSummary,
  zResultRecord,
  type CoalescingStore,
  type EnricherEvent,
  type ProviderPlugin,
} from '../index.js';
import { systemClock } from '../contract/tokens.js';
import type { CacheStore } from '../contract/cache-store.js';
import { GET_SYNC, type SyncReadable } from '../cache/memory-cache-store.js';
import { NEVER_ABORTED } from '../resilience/attempt-timeout.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { loadTestProvider } from '../testing/prepare.js';
import { fakePlugin, found, tick } from '../../test/fake-plugins.js';

const FAST = { retry: { maxAttempts: 2, initialDelay: 1, maxDelay: 20 }, circuitBreaker: false };

function load(plugin: ProviderPlugin, name = 'fake', config: Record<string, unknown> = {}, options: Record<string, unknown> = {}) {
  return loadTestProvider(plugin, { name, options, config: { resilience: FAST, ...config } });
}

describe('the cost of a lookup (engine bench paths)', () => {
  it('reads an in-memory cache once per miss, and counts lookups and upstream calls without an onEvent hook', async () => {
    const store = createMemoryCacheStore() as CacheStore & SyncReadable;
    const getSync = store[GET_SYNC] as NonNullable<SyncReadable[typeof GET_SYNC]>;
    const reads: string[] = [];
    const counting = { ...store, [GET_SYNC]: (key: string, now?: number) => (reads.push(key), getSync(key, now)) };
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin, 'a'), load(fake.plugin, 'b')], cacheStore: counting });
    const first = await enricher.enrich(['203.0.113.7', 'example.org']);
    expect(first.records.map((r) => [r.provider.name, r.observable?.value, r.cache.hit])).toEqual([
      ['a', '203.0.113.7', false],
      ['b', '203.0.113.7', false],
      ['a', 'example.org', false],
      ['b', 'example.org', false],
    ]);
    // One read per lookup (2 inputs x 2 instances), each key once.
    expect(reads).toHaveLength(4);
    expect(new Set(reads).size).toBe(4);
    const second = await enricher.enrich(['203.0.113.7', 'example.org']);
    expect(second.records.every((r) => r.cache.hit)).toBe(true);
    expect(reads).toHaveLength(8);
    expect(second.summaries.map((s) => [s.input, s.verdict, s.decidedBy])).toEqual([
      ['203.0.113.7', 'benign', ['a', 'b']],
      ['example.org', 'benign', ['a', 'b']],
    ]);
    expect(enricher.stats().a).toMatchObject({ lookups: 4, cacheHits: 2, upstreamCalls: 2 });
    expect(enricher.stats().b).toMatchObject({ lookups: 4, cacheHits: 2, upstreamCalls: 2 });
  });

  it('skips a private address without a lookup each time it comes again (the check is kept with the parsed input)', async () => {
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin)] });
    const { records, summaries } = await enricher.enrich(['10.1.2.3', '10.1.2.3', '8.8.8.8']);
    expect(records.map((r) => [r.status, r.reasons[0]?.rule])).toEqual([
      ['skipped', 'special_address:private'],
      ['skipped', 'special_address:private'],
      ['ok', 'fake:benign'],
    ]);
    expect(records[0]).not.toBe(records[1]);
    expect(summaries.map((s) => s.providers.fake?.status)).toEqual(['skipped', 'skipped', 'ok']);
    expect(enricher.stats().fake).toMatchObject({ lookups: 1, upstreamCalls: 1 });
  });
});

describe('enrich', () => {
  it('gives one valid record per input x provider, input-major and in configured order', async () => {
    const slow = fakePlugin(async (o) => (await tick(o.value === '203.0.0.1' ? 20 : 1), found('suspicious')));
    const bad = fakePlugin(async (o) => found(o.value === '203.0.0.2' ? 'malicious' : 'benign'));
    const enricher = createEnricher({ providers: [load(slow.plugin, 'a'), load(bad.plugin, 'b')], concurrency: 4 });
    const { records, summaries } = await enricher.enrich(['203.0.0.1', '203.0.0.2', 'example.org']);
    expect(records.map((r) => `${r.observable?.value}/${r.provider.name}`)).toEqual([
      '203.0.0.1/a', '203.0.0.1/b', '203.0.0.2/a', '203.0.0.2/b', 'example.org/a', 'example.org/b',
    ]);
    for (const record of records) zResultRecord.parse(record);
    for (const summary of summaries) zObservableSummary.parse(summary);
    expect(records[0]).toMatchObject({ status: 'ok', verdict: 'suspicious', confidence: 'high', error: null, cache: { hit: false, storedAt: null, ageSeconds: null } });
    expect(records[0]?.raw).toBeUndefined();
    expect(summaries.map((s) => [s.verdict, s.decidedBy])).toEqual([
      ['suspicious', ['a']],
      ['malicious', ['b']],
      ['suspicious', ['a']],
    ]);
  });

  it('records an unparseable input as an error per provider, with a null observable', async () => {
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin, 'a'), load(fake.plugin, 'b')] });
    const { records, summaries } = await enricher.enrich(['not an observable!!']);
    expect(records).toHaveLength(2);
    for (const record of records) {
      zResultRecord.parse(record);
      expect(record).toMatchObject({ observable: null, input: 'not an observable!!', status: 'error', verdict: 'unknown', error: { code: 'X_OBSERVABLE_INVALID' } });
    }
    expect(summaries[0]).toMatchObject({ observable: null, verdict: 'unknown', decidedBy: [] });
    expect(fake.calls).toHaveLength(0);
  });

  it('marks types the provider does not handle as unsupported without calling it', async () => {
    const fake = fakePlugin(async () => found(), { observableTypes: ['domain'] });
    const { records } = await createEnricher({ providers: [load(fake.plugin)] }).enrich(['1.2.3.4']);
    expect(records[0]).toMatchObject({ status: 'unsupported', verdict: 'unknown', error: null });
    expect(fake.calls).toHaveLength(0);
  });

  it('keeps not found, pending, clean and failed apart', async () => {
    const fake = fakePlugin(async (o) => {
      if (o.value === '1.1.1.1') return { kind: 'not_found' };
      if (o.value === '2.2.2.2') return { kind: 'pending' };
      if (o.value === '3.3.3.3') return found('benign');
      throw new UpstreamError('auth', 'GET /x failed: HTTP 401');
    });
    const { records } = await createEnricher({ providers: [load(fake.plugin)] }).enrich(['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4']);
    expect(records.map((r) => [r.status, r.verdict, r.error?.code ?? null])).toEqual([
      ['not_found', 'unknown', null],
      ['pending', 'unknown', null],
      ['ok', 'benign', null],
      ['error', 'unknown', 'X_UPSTREAM_AUTH'],
    ]);
  });

  it("never lets one provider's failure affect another, and never throws", async () => {
    const broken = fakePlugin(async () => {
      throw new TypeError('cannot read properties of undefined');
    });
    const fine = fakePlugin(async () => found('benign'));
    const enricher = createEnricher({ providers: [load(broken.plugin, 'broken'), load(fine.plugin, 'fine')] });
    const { records, summaries } = await enricher.enrich(['example.org']);
    expect(records[0]).toMatchObject({ status: 'error', error: { code: 'X_PROVIDER_FAILED', retryable: false } });
    expect(records[0]?.error?.message).toContain('cannot read properties of undefined');
    expect(records[1]).toMatchObject({ status: 'ok', verdict: 'benign' });
    expect(summaries[0]).toMatchObject({ verdict: 'benign', decidedBy: ['fine'] });
    expect(broken.calls).toHaveLength(1); // a provider bug is not retried
    expect(enricher.stats().broken?.errors).toEqual({ X_PROVIDER_FAILED: 1 });
  });

  it('turns an outcome that breaks the result format into an X_PROVIDER_FAILED record saying what is wrong', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ kind: 'found', verdict: 'evil', confidence: null, reasons: [], extracted: {}, entities: [] }, /verdict is "evil", expected one of malicious/],
      [{ kind: 'found', verdict: 'benign', confidence: 'huge', reasons: [], extracted: {}, entities: [] }, /confidence is "huge"/],
      [{ kind: 'found', verdict: 'benign', confidence: null, reasons: [{ code: 'r' }], extracted: {}, entities: [] }, /reasons\[0\] needs a string rule and message/],
      [{ kind: 'found', verdict: 'benign', confidence: null, reasons: [], extracted: null, entities: [] }, /extracted is null, expected an object/],
      [{ kind: 'found', verdict: 'benign', confidence: null, reasons: [], extracted: {}, entities: 'x' }, /entities is "x", expected an array/],
      [{ kind: 'not_found', reasons: 'oops' }, /reasons is "oops", expected an array/],
      [{ kind: 'maybe' }, /kind is "maybe"/],
    ];
    for (const [outcome, message] of bad) {
      const fake = fakePlugin(async () => outcome as never);
      const { records } = await createEnricher({ providers: [load(fake.plugin)] }).enrich(['example.org']);
      expect(records[0]).toMatchObject({ status: 'error', verdict: 'unknown', error: { code: 'X_PROVIDER_FAILED' } });
      expect(records[0]?.error?.message).toMatch(message);
      zResultRecord.parse(records[0]);
    }
  });

  it('carries the lifecycle of a deprecated provider on its records', async () => {
    const lifecycle = { status: 'end-of-life' as const, endOfLife: '2024-01-01', replacedBy: '@x/provider-new', message: 'Migrate.' };
    const old = fakePlugin(async () => found(), { lifecycle });
    const current = fakePlugin(async () => found());
    const { records } = await createEnricher({ providers: [load(old.plugin, 'old'), load(current.plugin, 'new')] }).enrich(['example.org']);
    expect(records[0]?.provider).toEqual({ name: 'old', plugin: 'fake', version: '1.0.0', lifecycle });
    expect(records[1]?.provider).toEqual({ name: 'new', plugin: 'fake', version: '1.0.0' });
  });

  it('adds the raw response to fresh records only when asked', async () => {
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin)] });
    expect((await enricher.enrich(['example.org'], { includeRaw: true })).records[0]?.raw).toEqual({ big: true });
    expect((await enricher.enrich(['example.org'], { includeRaw: true })).records[0]?.raw).toBeUndefined(); // cache hit
  });

  it('keeps the raw response for a raw-asking call that joins the flight of one that did not ask', async () => {
    const fake = fakePlugin(async () => (await tick(5), found()));
    const enricher = createEnricher({ providers: [load(fake.plugin)], cacheStore: false });
    const [plain, withRaw] = await Promise.all([enricher.enrich(['example.org']), enricher.enrich(['example.org'], { includeRaw: true })]);
    expect(fake.calls).toHaveLength(1); // one flight
    expect(plain.records[0]?.raw).toBeUndefined();
    expect(withRaw.records[0]?.raw).toEqual({ big: true });
  });

  it('streams the raw response when asked, and drops it otherwise', async () => {
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin)], cacheStore: false });
    const raws = async (includeRaw: boolean) => {
      const seen: unknown[] = [];
      for await (const item of enricher.stream(['example.org', '203.0.0.9'], { includeRaw })) seen.push(item.records[0]?.raw);
      return seen;
    };
    expect(await raws(true)).toEqual([{ big: true }, { big: true }]);
    expect(await raws(false)).toEqual([undefined, undefined]);
  });

  it('rejects an unknown provider name (a caller mistake)', async () => {
    const fake = fakePlugin(async () => found());
    await expect(createEnricher({ providers: [load(fake.plugin)] }).enrich(['example.org'], { providers: ['nope'] })).rejects.toMatchObject({ code: 'X_CONFIG_INVALID' });
  });

  it('looks up only the selected providers', async () => {
    const a = fakePlugin(async () => found());
    const b = fakePlugin(async () => found());
    const { records } = await createEnricher({ providers: [load(a.plugin, 'a'), load(b.plugin, 'b')] }).enrich(['example.org'], { providers: ['b'] });
    expect(records.map((r) => r.provider.name)).toEqual(['b']);
    expect(a.calls).toHaveLength(0);
  });
});

describe('cache', () => {
  it('serves a repeat from cache with its age, and refresh bypasses the read but writes', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = { now: () => now, sleep: systemClock.sleep };
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin)], clock });
    await enricher.enrich(['example.org']);
    now += 30_000;
    const hit = (await enricher.enrich(['example.org'])).records[0];
    expect(hit).toMatchObject({ status: 'ok', cache: { hit: true, storedAt: '2026-01-01T00:00:00.000Z', ageSeconds: 30 }, fetchedAt: '2026-01-01T00:00:00.000Z' });
    expect(fake.calls).toHaveLength(1);
    const refreshed = (await enricher.enrich(['example.org'], { refresh: true })).records[0];
    expect(refreshed?.cache.hit).toBe(false);
    expect(fake.calls).toHaveLength(2);
    expect((await enricher.enrich(['example.org'])).records[0]?.cache).toMatchObject({ hit: true, ageSeconds: 0 });
    expect(enricher.stats().fake).toMatchObject({ lookups: 4, cacheHits: 2, upstreamCalls: 2 });
  });

  it('enrichNow gives the result itself when every lookup is a hit in memory, else the promise enrich gives; a caller mistake is thrown', async () => {
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin), load(fake.plugin, 'other')] });
    const enrichNow = enricher.enrichNow!.bind(enricher);
    const miss = enrichNow(['1.1.1.1', 'example.org']);
    expect(miss).toBeInstanceOf(Promise);
    const fetched = await miss;
    expect(fetched.records.map((record) => record.cache.hit)).toEqual([false, false, false, false]);
    const controller = new AbortController();
    const hit = enrichNow(['1.1.1.1', 'example.org'], { signal: controller.signal });
    expect(hit).not.toBeInstanceOf(Promise);
    const { records, summaries } = hit as Awaited<typeof miss>;
    expect(records.map((record) => `${record.input} ${record.provider.name} ${record.cache.hit}`)).toEqual(['1.1.1.1 fake true', '1.1.1.1 other true', 'example.org fake true', 'example.org other true']);
    expect(summaries.map((summary) => summary.input)).toEqual(['1.1.1.1', 'example.org']);
    // The same records as enrich's, field for field (fetchedAt, ages: the same clock second).
    expect((await enricher.enrich(['1.1.1.1', 'example.org'])).records).toEqual(records);
    // Nothing left listening on the caller's signal; a hit and a miss together wait for the miss.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const mixed = enrichNow(['1.1.1.1', '2.2.2.2'], { signal: controller.signal });
    expect(mixed).toBeInstanceOf(Promise);
    expect((await mixed).records.map((record) => record.cache.hit)).toEqual([true, true, false, false]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(() => enrichNow(['1.1.1.1'], { providers: ['nope'] })).toThrow(/Unknown provider instance "nope"/);
    await expect(enricher.enrich(['1.1.1.1'], { providers: ['nope'] })).rejects.toThrow(/Unknown provider instance "nope"/);
    // An aborted caller: not answered from the cache (as enrich), the lookups skipped.
    controller.abort();
    const aborted = enrichNow(['1.1.1.1'], { signal: controller.signal });
    expect(aborted).toBeInstanceOf(Promise);
    expect((await aborted).records.map((record) => record.status)).toEqual(['skipped', 'skipped']);
  });

  it('answers a call mixing hits and misses in input order, small (answered before workers start) or large', async () => {
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin), load(fake.plugin, 'other')], concurrency: 2 });
    await enricher.enrich(['1.1.1.1', '3.3.3.3']);
    const small = await enricher.enrich(['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4']);
    expect(small.records.map((record) => `${record.input} ${record.provider.name} ${record.cache.hit}`)).toEqual([
      '1.1.1.1 fake true', '1.1.1.1 other true', '2.2.2.2 fake false', '2.2.2.2 other false',
      '3.3.3.3 fake true', '3.3.3.3 other true', '4.4.4.4 fake false', '4.4.4.4 other false',
    ]);
    expect(small.summaries.map((summary) => summary.input)).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4']);
    const inputs = Array.from({ length: 100 }, (_, i) => `11.0.${i % 3}.${i}`);
    const large = await enricher.enrich(inputs);
    expect(large.summaries.map((summary) => summary.input)).toEqual(inputs);
    expect(large.records.filter((record) => record.cache.hit)).toHaveLength(0);
    expect((await enricher.enrich(inputs)).records.every((record) => record.cache.hit)).toBe(true);
  });

  it('expires found outcomes after the type TTL (config overrides the manifest) and not-found after the not-found TTL', async () => {
    let now = 0;
    const clock = { now: () => now, sleep: systemClock.sleep };
    const fake = fakePlugin(async (o) => (o.value === '1.1.1.1' ? { kind: 'not_found' } : found()));
    const enricher = createEnricher({ providers: [load(fake.plugin, 'fake', { cache: { ttl: { domain: '2m' }, notFoundTtl: '5s' } })], clock });
    await enricher.enrich(['example.org', '1.1.1.1']);
    now = 4_999;
    await enricher.enrich(['example.org', '1.1.1.1']);
    expect(fake.calls).toHaveLength(2);
    now = 5_000;
    await enricher.enrich(['example.org', '1.1.1.1']);
    expect(fake.calls.map((o) => o.value)).toEqual(['example.org', '1.1.1.1', '1.1.1.1']);
    now = 120_000;
    await enricher.enrich(['example.org']);
    expect(fake.calls).toHaveLength(4);
  });

  it('cacheOnly answers hits from the cache and misses as skipped X_NOT_CACHED, never calling the provider', async () => {
    const fake = fakePlugin(async () => found('malicious'));
    for (const cacheStore of [createMemoryCacheStore(), undefined]) {
      const enricher = createEnricher({ providers: [load(fake.plugin)], ...(cacheStore ? { cacheStore } : {}) });
      const before = fake.calls.length;
      const miss = (await enricher.enrich(['example.org'], { cacheOnly: true })).records[0];
      expect(miss).toMatchObject({ status: 'skipped', verdict: 'unknown', error: { code: 'X_NOT_CACHED', retryable: false } });
      expect(fake.calls.length).toBe(before);
      await enricher.enrich(['example.org']);
      const hit = (await enricher.enrich(['example.org'], { cacheOnly: true })).records[0];
      expect(hit).toMatchObject({ status: 'ok', verdict: 'malicious', cache: { hit: true } });
      expect(fake.calls.length).toBe(before + 1);
    }
  });

  it('never caches errors or pending outcomes', async () => {
    let fail = true;
    const fake = fakePlugin(async (o) => {
      if (o.value === '2.2.2.2') return { kind: 'pending' };
      if (fail) throw new UpstreamError('bad_request', 'HTTP 400');
      return found();
    });
    const enricher = createEnricher({ providers: [load(fake.plugin)] });
    await enricher.enrich(['1.1.1.1', '2.2.2.2']);
    fail = false;
    const { records } = await enricher.enrich(['1.1.1.1', '2.2.2.2']);
    expect(records.map((r) => [r.status, r.cache.hit])).toEqual([['ok', false], ['pending', false]]);
    expect(fake.calls).toHaveLength(4);
  });

  it('misses when the options change (a new key or threshold), and can be disabled per instance', async () => {
    const cacheStore = createMemoryCacheStore();
    const fake = fakePlugin(async () => found());
    await createEnricher({ providers: [load(fake.plugin, 'fake', {}, { threshold: 5 })], cacheStore }).enrich(['example.org']);
    await createEnricher({ providers: [load(fake.plugin, 'fake', {}, { threshold: 5 })], cacheStore }).enrich(['example.org']);
    expect(fake.calls).toHaveLength(1);
    await createEnricher({ providers: [load(fake.plugin, 'fake', {}, { threshold: 6 })], cacheStore }).enrich(['example.org']);
    expect(fake.calls).toHaveLength(2);
    const off = createEnricher({ providers: [load(fake.plugin, 'fake', { cache: false })], cacheStore });
    await off.enrich(['example.org']);
    await off.enrich(['example.org']);
    expect(fake.calls).toHaveLength(4);
  });

  it("writes through a wrapper's own set even when it spreads the memory store", async () => {
    const memory = createMemoryCacheStore();
    const written: string[] = [];
    const cacheStore = { ...memory, set: async (key: string, entry: Parameters<typeof memory.set>[1]) => (written.push(key), memory.set(key, entry)) };
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin)], cacheStore });
    await enricher.enrich(['example.org', { type: 'domain', value: 'example.com' }]);
    expect(written).toHaveLength(2);
    const { records } = await enricher.enrich(['example.org', { type: 'domain', value: 'example.com' }]);
    expect(records.map((r) => r.cache.hit)).toEqual([true, true]);
    expect(fake.calls).toHaveLength(2);
  });
});

describe('coalescing', () => {
  it('makes 1,000 concurrent lookups of 10 observables cost exactly 10 provider calls', async () => {
    const fake = fakePlugin(async () => (await tick(5), found()));
    const enricher = createEnricher({ providers: [load(fake.plugin)], concurrency: 1_000 });
    const inputs = Array.from({ length: 1_000 }, (_, i) => `203.0.0.${i % 10}`);
    const { records } = await enricher.enrich(inputs);
    expect(records).toHaveLength(1_000);
    expect(records.every((r) => r.status === 'ok')).toBe(true);
    expect(fake.calls).toHaveLength(10);
    expect(enricher.stats().fake).toMatchObject({ lookups: 1_000, upstreamCalls: 10, coalesced: 990 });
  });

  it('shares one fetch between processes through a CoalescingStore', async () => {
    const cacheStore = createMemoryCacheStore();
    const claims = new Set<string>();
    const waiters = new Map<string, Array<() => void>>();
    const coalescingStore: CoalescingStore = {
      async claim(key) {
        if (claims.has(key)) return false;
        claims.add(key);
        return true;
      },
      waitFor: (key) => new Promise((resolve) => waiters.set(key, [...(waiters.get(key) ?? []), () => resolve(true)])),
      async release(key) {
        claims.delete(key);
        for (const wake of waiters.get(key) ?? []) wake();
        waiters.delete(key);
      },
    };
    const fake = fakePlugin(async () => (await tick(10), found()));
    const one = createEnricher({ providers: [load(fake.plugin)], cacheStore, coalescingStore });
    const two = createEnricher({ providers: [load(fake.plugin)], cacheStore, coalescingStore });
    const [a, b] = await Promise.all([one.enrich(['example.org']), two.enrich(['example.org'])]);
    expect(fake.calls).toHaveLength(1);
    expect(a.records[0]?.status).toBe('ok');
    expect(b.records[0]).toMatchObject({ status: 'ok', cache: { hit: true } });
  });

  it('re-reads the cache after winning the claim: a process whose claim comes after another process fetched and released does not fetch again', async () => {
    // The interleaving the Redis fleet test hit on a loaded machine, forced: process two misses
    // the cache; before its claim is answered, process one fetches, caches and releases, and its
    // "just fetched" window is over, so process two wins the claim.
    const cacheStore = createMemoryCacheStore();
    const granted: CoalescingStore = { claim: async () => true, waitFor: async () => true, release: async () => undefined };
    const fake = fakePlugin(async () => found());
    const one = createEnricher({ providers: [load(fake.plugin)], cacheStore, coalescingStore: granted });
    const afterOneFetched: CoalescingStore = { ...granted, claim: async () => (await one.enrich(['example.org']), true) };
    const two = createEnricher({ providers: [load(fake.plugin)], cacheStore, coalescingStore: afterOneFetched });

    const { records } = await two.enrich(['example.org']);
    expect(fake.calls).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'ok', cache: { hit: true } });
    expect(two.stats().fake).toMatchObject({ upstreamCalls: 0 });
    // `refresh` asks for a new fetch: the claim holder does not answer it from the cache.
    await two.enrich(['example.org'], { refresh: true });
    expect(fake.calls).toHaveLength(2);
  });

  it('lets a CoalescingStore listen on the lookup signal of many waits at once without a Node leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      // Every key is held by "another process": each lookup waits, listening on its signal, as the Redis store does.
      const coalescingStore: CoalescingStore = {
        claim: async () => false,
        waitFor: (_key, _ms, signal) =>
          new Promise((resolve) => {
            const done = () => (signal?.removeEventListener('abort', done), resolve(false));
            signal?.addEventListener('abort', done);
            setTimeout(done, 20);
          }),
        release: async () => undefined,
      };
      const fake = fakePlugin(async () => found());
      const enricher = createEnricher({ providers: [load(fake.plugin)], cacheStore: createMemoryCacheStore(), coalescingStore, concurrency: 32 });
      const { records } = await enricher.enrich(Array.from({ length: 32 }, (_, i) => `203.0.1.${i}`));
      expect(records.every((r) => r.status === 'ok')).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('batching', () => {
  it('groups pending lookups into enrichMany calls of at most batch.maxSize, one failure per item', async () => {
    const fake = fakePlugin(
      async () => found(),
      { batch: { maxSize: 4, maxWaitMs: 5 }, observableTypes: ['sha256'] },
      async (observables) => observables.map((o) => (o.value.startsWith('f') ? new UpstreamError('bad_request', 'HTTP 400') : found('malicious'))),
    );
    const enricher = createEnricher({ providers: [load(fake.plugin)] });
    const hashes = Array.from({ length: 10 }, (_, i) => (i === 3 ? 'f' : 'a') + String(i).repeat(63));
    const { records } = await enricher.enrich(hashes);
    expect(fake.batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(fake.calls).toHaveLength(0);
    expect(records.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'error', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(records[3]?.error?.code).toBe('X_UPSTREAM_BAD_REQUEST');
    expect(enricher.stats().fake?.upstreamCalls).toBe(3);
  });

  it("batches at most the instance's batchSize when the provider sets one below the manifest's maxSize, and refuses a bad one", async () => {
    const withSize = (batchSize: unknown) =>
      fakePlugin(async () => found(), { batch: { maxSize: 25, maxWaitMs: 5 }, observableTypes: ['sha256'] }, async (observables) => observables.map(() => found()), batchSize);
    const six = withSize(6);
    const hashes = Array.from({ length: 14 }, (_, i) => String(i % 10).repeat(64).slice(0, 63) + String(i % 7));
    await createEnricher({ providers: [load(six.plugin)] }).enrich(hashes);
    expect(six.batches.map((b) => b.length)).toEqual([6, 6, 2]);
    expect(() => createEnricher({ providers: [load(withSize(0).plugin)] })).toThrow(/batchSize 0; expected a whole number/);
  });

  it('leaves no abort listeners behind on the caller signal or the never-aborted one once batches settle', async () => {
    const fake = fakePlugin(async () => found(), { batch: { maxSize: 2, maxWaitMs: 1 }, observableTypes: ['sha256'] }, async (observables) => observables.map(() => found()));
    const enricher = createEnricher({ providers: [load(fake.plugin)], cacheStore: false });
    const hashes = Array.from({ length: 40 }, (_, i) => String(i).padStart(64, 'a'));
    const before = getEventListeners(NEVER_ABORTED, 'abort').length;
    await enricher.enrich(hashes);
    expect(getEventListeners(NEVER_ABORTED, 'abort').length).toBe(before);
    const caller = new AbortController();
    const { records } = await enricher.enrich(hashes, { signal: caller.signal });
    expect(records.every((r) => r.status === 'ok')).toBe(true);
    expect(fake.batches.length).toBe(40);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it("does not listen on a caller's signal while every lookup is a cache hit in memory, and still honours it on a miss", async () => {
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin, 'a'), load(fake.plugin, 'b')], cacheStore: createMemoryCacheStore() });
    await enricher.enrich(['example.org']);
    const caller = new AbortController();
    const added: string[] = [];
    const addEventListener = caller.signal.addEventListener.bind(caller.signal);
    caller.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => (added.push(args[0]), addEventListener(...args))) as AbortSignal['addEventListener'];
    const hits = await enricher.enrich(['example.org'], { signal: caller.signal });
    expect(hits.records.map((r) => [r.status, r.cache.hit])).toEqual([
      ['ok', true],
      ['ok', true],
    ]);
    expect(added).toEqual([]);
    // A miss links the call to the caller's signal (once), and lets go of it when the call ends.
    await enricher.enrich(['example.org', 'example.net'], { signal: caller.signal });
    expect(added).toEqual(['abort']);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    // An aborted caller: hits are not answered from the cache path, misses are skipped.
    caller.abort();
    const stopped = await enricher.enrich(['example.org', 'example.com'], { signal: caller.signal });
    expect(stopped.records.map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
  });

  it("listens on a caller's signal once per call, not once per lookup (no leak warning with many lookups at once)", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const fake = fakePlugin(async () => (await tick(5), found()));
      const enricher = createEnricher({ providers: [load(fake.plugin)], cacheStore: false, concurrency: 64 });
      const caller = new AbortController();
      let peak = 0;
      const watching = setInterval(() => (peak = Math.max(peak, getEventListeners(caller.signal, 'abort').length)), 1);
      const { records } = await enricher.enrich(Array.from({ length: 64 }, (_, i) => `203.0.2.${i}`), { signal: caller.signal });
      clearInterval(watching);
      expect(records.every((r) => r.status === 'ok')).toBe(true);
      expect(peak).toBeLessThanOrEqual(1);
      expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
      // The stream too, and an abort still reaches the lookups.
      const stopping = new AbortController();
      const items = [];
      for await (const item of enricher.stream(Array.from({ length: 20 }, (_, i) => `203.0.3.${i}`), { signal: stopping.signal })) {
        items.push(item);
        if (items.length === 2) stopping.abort();
      }
      expect(items.at(-1)?.records[0]?.status).toBe('skipped');
      expect(getEventListeners(stopping.signal, 'abort')).toHaveLength(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('batches each of batch.groups separately and sends other types through enrich', async () => {
    const fake = fakePlugin(
      async () => found(),
      { batch: { maxSize: 4, maxWaitMs: 5, groups: [['md5', 'sha256'], ['url']] }, observableTypes: ['md5', 'sha256', 'url', 'domain'] },
      async (observables) => observables.map(() => found('malicious')),
    );
    const enricher = createEnricher({ providers: [load(fake.plugin)] });
    const inputs = ['a'.repeat(32), 'http://one.example/', 'b'.repeat(64), 'example.org', 'http://two.example/', 'example.net'];
    const { records } = await enricher.enrich(inputs);
    expect(records.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    // One batch of hashes, one of URLs; never mixed, and domains never batched.
    const kinds = fake.batches.map((batch) => batch.map((o) => o.type).sort().join(',')).sort();
    expect(kinds).toEqual(['md5,sha256', 'url,url']);
    expect(fake.calls.map((call) => call.type)).toEqual(['domain', 'domain']);
  });

  it('fails the whole batch when enrichMany returns the wrong number of results', async () => {
    const fake = fakePlugin(async () => found(), { batch: { maxSize: 4, maxWaitMs: 1 } }, async () => [found()]);
    const { records } = await createEnricher({ providers: [load(fake.plugin)] }).enrich(['1.1.1.1', '2.2.2.2']);
    expect(records.map((r) => r.error?.code)).toEqual(['X_PROVIDER_FAILED', 'X_PROVIDER_FAILED']);
  });
});

describe('resilience', () => {
  it('retries transient failures (5xx) and succeeds', async () => {
    let failures = 2;
    const events: EnricherEvent[] = [];
    const fake = fakePlugin(async () => {
      if (failures-- > 0) throw new UpstreamError('http', 'HTTP 503', { status: 503 });
      return found();
    });
    const enricher = createEnricher({ providers: [load(fake.plugin)], onEvent: (e) => events.push(e) });
    const { records } = await enricher.enrich(['example.org']);
    expect(records[0]?.status).toBe('ok');
    expect(fake.calls).toHaveLength(3);
    expect(enricher.stats().fake).toMatchObject({ retries: 2, upstreamCalls: 3 });
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'upstream').map((e) => e.type === 'upstream' && e.httpStatus)).toEqual([503, 503, undefined]);
  });

  it('waits its retry backoff on the injected clock: a 10 s backoff passes when the clock says so', async () => {
    let failures = 1;
    const fake = fakePlugin(async () => {
      if (failures-- > 0) throw new UpstreamError('http', 'HTTP 503', { status: 503 });
      return found();
    });
    const clock = createFakeClock();
    const enricher = createEnricher({
      providers: [load(fake.plugin, 'fake', { resilience: { retry: { maxAttempts: 1, initialDelay: '10s', maxDelay: '10s' }, circuitBreaker: false } })],
      clock,
    });
    let done = false;
    const running = enricher.enrich(['example.org']).then((result) => ((done = true), result));
    await clock.advance(0);
    expect([fake.calls.length, done, clock.sleepers]).toEqual([1, false, 1]);
    while (await clock.next());
    expect((await running).records[0]).toMatchObject({ status: 'ok', fetchedAt: new Date(clock.now()).toISOString() });
    expect(fake.calls).toHaveLength(2);
  });

  it.each([
    ['400', new UpstreamError('bad_request', 'HTTP 400', { status: 400 })],
    ['401', new UpstreamError('auth', 'HTTP 401', { status: 401 })],
    ['403', new UpstreamError('auth', 'HTTP 403', { status: 403 })],
    ['404', new UpstreamError('http', 'HTTP 404', { status: 404, retryable: false })],
  ])('never retries %s', async (_status, error) => {
    const fake = fakePlugin(async () => {
      throw error;
    });
    const { records } = await createEnricher({ providers: [load(fake.plugin)] }).enrich(['example.org']);
    expect(records[0]?.status).toBe('error');
    expect(fake.calls).toHaveLength(1);
  });

  it('honours Retry-After (capped by maxDelay) on 429', async () => {
    let first = true;
    const delays: number[] = [];
    const fake = fakePlugin(async () => {
      if (first) {
        first = false;
        throw new UpstreamError('quota', 'HTTP 429', { status: 429, retryAfterMs: 60 });
      }
      return found();
    });
    const enricher = createEnricher({
      providers: [load(fake.plugin, 'fake', { resilience: { retry: { maxAttempts: 1, initialDelay: 1, maxDelay: 80 }, circuitBreaker: false } })],
      onEvent: (e) => e.type === 'retry' && delays.push(e.delayMs),
    });
    expect((await enricher.enrich(['example.org'])).records[0]?.status).toBe('ok');
    expect(delays).toEqual([60]);
  });

  it('opens the circuit after consecutive failures, fails fast, then closes after a half-open probe', async () => {
    // The half-open delay runs on the enricher's clock: a loaded machine cannot let it pass
    // between "open" and the fail-fast check, and the probe comes when the test moves the clock.
    const clock = createFakeClock();
    let healthy = false;
    const states: string[] = [];
    const fake = fakePlugin(async () => {
      if (!healthy) throw new UpstreamError('network', 'ECONNRESET');
      return found();
    });
    const enricher = createEnricher({
      providers: [load(fake.plugin, 'fake', { cache: false, resilience: { retry: false, circuitBreaker: { consecutiveFailures: 2, halfOpenAfter: 40 } } })],
      clock,
      onEvent: (e) => e.type === 'circuit' && states.push(e.state),
    });
    await enricher.enrich(['1.1.1.1', '1.1.1.2'], { concurrency: 1 });
    expect((await enricher.providers())[0]?.circuitState).toBe('open');
    const { records } = await enricher.enrich(['1.1.1.3']);
    expect(records[0]?.error).toMatchObject({ code: 'X_CIRCUIT_OPEN', retryable: true });
    expect(fake.calls).toHaveLength(2);
    await clock.advance(39);
    expect((await enricher.enrich(['1.1.1.5'])).records[0]?.error).toMatchObject({ code: 'X_CIRCUIT_OPEN' });
    await clock.advance(1);
    healthy = true;
    expect((await enricher.enrich(['1.1.1.4'])).records[0]?.status).toBe('ok');
    expect(enricher.stats().fake?.circuitState).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('times an attempt out cooperatively: the provider sees its signal abort', async () => {
    let sawAbort = false;
    const fake = fakePlugin(
      (_o, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(new Error('aborted'));
          });
        }),
    );
    const enricher = createEnricher({ providers: [load(fake.plugin, 'fake', { resilience: { timeout: '30ms', retry: false, circuitBreaker: false } })] });
    const { records } = await enricher.enrich(['example.org']);
    expect(records[0]?.error).toMatchObject({ code: 'X_TIMEOUT', retryable: true });
    expect(sawAbort).toBe(true);
    expect(enricher.stats().fake?.timeouts).toBe(1);
  });

  it('refuses work beyond the bulkhead with X_BULKHEAD_FULL', async () => {
    const fake = fakePlugin(async () => (await tick(20), found()));
    const enricher = createEnricher({ providers: [load(fake.plugin, 'fake', { resilience: { retry: false, circuitBreaker: false, bulkhead: { maxConcurrent: 1, maxQueue: 0 } } })] });
    const { records } = await enricher.enrich(['1.1.1.1', '1.1.1.2']);
    expect(records.map((r) => r.error?.code ?? r.status).sort()).toEqual(['X_BULKHEAD_FULL', 'ok']);
  });
});

describe('rate limits', () => {
  it('waits for budget without the wait counting against the timeout', async () => {
    // A provider that takes budget itself pauses its attempt's timeout meanwhile, as the upstream client does.
    const fake = fakePlugin(async (_o, ctx) => {
      ctx.attemptTimeout?.pause();
      try {
        // A provider that takes budget itself reports the answer, as the upstream client does.
        await (await ctx.limiter.acquire(1, ctx.signal)).settle();
      } finally {
        ctx.attemptTimeout?.resume();
      }
      return found();
    });
    const events: EnricherEvent[] = [];
    // On the injected clock: the waits are exact, whatever the machine's load (wall-clock
    // margins here failed on a loaded machine).
    const clock = createFakeClock();
    const enricher = createEnricher({
      providers: [load(fake.plugin, 'fake', { rateLimit: [{ requests: 2, per: '400ms' }], resilience: { timeout: '150ms', retry: false, circuitBreaker: false } })],
      onEvent: (e) => events.push(e),
      clock,
    });
    // Two lookups fit the window; the other two wait for it side by side.
    let done = false;
    const running = enricher.enrich(['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4']).then((result) => ((done = true), result));
    await clock.advance(100);
    // While they wait, the stats say so and count the wait so far (for a progress bar).
    expect(enricher.stats().fake).toMatchObject({ waitingForQuota: 2, quotaBlockedMs: 100 });
    while (!done && (await clock.next()));
    const { records } = await running;
    expect(records.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    // Both waited for the window (400 ms) far past the 150 ms timeout, which was paused.
    const stats = enricher.stats().fake;
    expect(stats?.waitingForQuota).toBe(0);
    expect(stats?.quotaWaitMs).toBe(800); // two waits of 400 ms, summed
    // Wall-clock time blocked counts overlapping waits once: one wait, not two.
    expect(stats?.quotaBlockedMs).toBe(400);
    expect(events.some((e) => e.type === 'rate_limit_wait')).toBe(true);
  });

  it('fails fast with X_RATE_LIMIT_EXHAUSTED when the day is spent, and reports the remaining budget', async () => {
    const fake = fakePlugin(async (_o, ctx) => {
      // A provider that takes budget itself reports the answer, as the HTTP client does.
      await (await ctx.limiter.acquire(1, ctx.signal)).settle();
      return found();
    });
    const enricher = createEnricher({ providers: [load(fake.plugin, 'fake', { rateLimit: [{ requests: 4, per: '1m' }, { requests: 1, per: '1d' }] })] });
    const { records } = await enricher.enrich(['1.1.1.1', '1.1.1.2'], { concurrency: 1 });
    expect(records[1]?.error).toMatchObject({ code: 'X_RATE_LIMIT_EXHAUSTED' });
    expect(records[1]?.error?.message).toMatch(/budget returns in/);
    expect((await enricher.providers())[0]?.rateLimit).toMatchObject([
      { requests: 4, perMs: 60_000, remaining: 3 },
      { requests: 1, perMs: 86_400_000, remaining: 0 },
    ]);
  });
});

describe('abort', () => {
  it('ends promptly with skipped records once the signal aborts', async () => {
    const fake = fakePlugin((_o, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(found()))));
    const controller = new AbortController();
    const enricher = createEnricher({ providers: [load(fake.plugin)] });
    const pending = enricher.enrich(['1.1.1.1', '1.1.1.2']);
    void pending;
    const run = enricher.enrich(['2.2.2.1', '2.2.2.2'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    const { records } = await run;
    expect(records.map((r) => [r.status, r.error?.code])).toEqual([
      ['skipped', 'X_ABORTED'],
      ['skipped', 'X_ABORTED'],
    ]);
    const again = await enricher.enrich(['3.3.3.3'], { signal: AbortSignal.abort() });
    expect(again.records[0]?.status).toBe('skipped');
  });
});

describe('stream', () => {
  it('yields one item per input in input order with bounded concurrency', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const fake = fakePlugin(async (o) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await tick(o.value.endsWith('.1') ? 15 : 1);
      inFlight--;
      return found();
    });
    const enricher = createEnricher({ providers: [load(fake.plugin)] });
    async function* inputs() {
      for (let i = 1; i <= 9; i++) yield `203.0.${i}.1`.replace(/\.1$/, i % 2 ? '.1' : '.2');
    }
    const seen: string[] = [];
    for await (const item of enricher.stream(inputs(), { concurrency: 3 })) seen.push(item.summary.input);
    expect(seen).toEqual(Array.from({ length: 9 }, (_, i) => `203.0.${i + 1}.${(i + 1) % 2 ? 1 : 2}`));
    expect(maxInFlight).toBeLessThanOrEqual(3);
  });
});

describe('container, events and close', () => {
  it('registers each instance in a child of the host container, then closes providers', async () => {
    const fake = fakePlugin(async (_o, ctx) => found(ctx.options.threshold === 9 ? 'malicious' : 'benign'));
    const enricher = createEnricher({ providers: [load(fake.plugin, 'a', {}, { threshold: 9 }), load(fake.plugin, 'b')] });
    const { records } = await enricher.enrich(['example.org']);
    expect(records.map((r) => r.verdict)).toEqual(['malicious', 'benign']);
    const info = await enricher.providers();
    expect(info.map((p) => [p.name, p.plugin, p.circuitState])).toEqual([
      ['a', 'fake', 'disabled'],
      ['b', 'fake', 'disabled'],
    ]);
    await enricher.close();
    expect(fake.closed).toBe(2);
  });

  it('fails clearly when a plugin cannot be registered', () => {
    const plugin: ProviderPlugin = { manifest: fakePlugin(async () => found()).plugin.manifest, register: () => undefined };
    expect(() => createEnricher({ providers: [load(plugin)] })).toThrow(/did not register a provider/);
  });

  it('redacts known secrets from provider error messages', async () => {
    const secret = 'sk-live-abcdef123456';
    const fake = fakePlugin(async () => {
      throw new Error(`request to https://api.example/?apikey=${secret} failed`);
    });
    const { records } = await createEnricher({ providers: [load(fake.plugin, 'fake', {}, { apiKey: secret })] }).enrich(['example.org']);
    expect(JSON.stringify(records)).not.toContain(secret);
    expect(records[0]?.error?.message).toContain('[REDACTED]');
  });

  it('emits lookup events with cache hits', async () => {
    const events: EnricherEvent[] = [];
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin)], onEvent: (e) => events.push(e) });
    await enricher.enrich(['example.org', 'example.org'], { concurrency: 1 });
    const lookups = events.filter((e) => e.type === 'lookup');
    expect(lookups.map((e) => e.type === 'lookup' && e.cacheHit)).toEqual([false, true]);
  });
});

void z;
