import { describe, expect, it } from 'vitest';
import { createEnricher, zResultRecord, type ProviderPlugin } from '../index.js';
import { loadTestProvider } from '../testing/prepare.js';
import { fakePlugin, found } from '../../test/fake-plugins.js';

const load = (plugin: ProviderPlugin, name = 'fake') =>
  loadTestProvider(plugin, { name, config: { rateLimit: [{ requests: 4, per: '1m' }], resilience: { retry: false, circuitBreaker: false } } });

describe('private and special addresses', () => {
  it('are not sent upstream by default: skipped records with the reason, no quota spent', async () => {
    // The plugin spends quota the way providers do: through the instance's limiter.
    const fake = fakePlugin(async (_observable, ctx) => {
      (await ctx.limiter.acquire(1, ctx.signal)).settle();
      return found('benign');
    });
    const enricher = createEnricher({ providers: [load(fake.plugin, 'a'), load(fake.plugin, 'b')] });
    const { records, summaries } = await enricher.enrich(['10.0.0.1', 'fe80::1', '::ffff:192.168.0.1', '8.8.8.8']);
    expect(fake.calls.map((call) => call.value)).toEqual(['8.8.8.8', '8.8.8.8']);
    for (const record of records) zResultRecord.parse(record);
    const skipped = records.filter((record) => record.status === 'skipped');
    expect(skipped).toHaveLength(6);
    expect(skipped[0]).toMatchObject({
      observable: { type: 'ipv4', value: '10.0.0.1' },
      provider: { name: 'a' },
      verdict: 'unknown',
      error: null,
      reasons: [{ rule: 'special_address:private', values: { range: 'private' } }],
    });
    expect(skipped[0]?.reasons[0]?.message).toBe('10.0.0.1 is a private address (RFC 1918): not sent upstream (lookupPrivateAddresses: true sends it)');
    expect(skipped[2]?.reasons[0]?.rule).toBe('special_address:linkLocal');
    expect(summaries.map((summary) => summary.verdict)).toEqual(['unknown', 'unknown', 'unknown', 'benign']);
    // One lookup of 8.8.8.8 per instance: three of four requests of the window are left.
    for (const info of await enricher.providers()) expect(info.rateLimit[0]?.remaining).toBe(3);
  });

  it('are looked up when lookupPrivateAddresses is true', async () => {
    const fake = fakePlugin(async () => found('suspicious'));
    const enricher = createEnricher({ providers: [load(fake.plugin)], lookupPrivateAddresses: true });
    const { records } = await enricher.enrich(['10.0.0.1', '127.0.0.1']);
    expect(records.map((record) => record.status)).toEqual(['ok', 'ok']);
    expect(fake.calls).toHaveLength(2);
  });

  it('are skipped in a stream too', async () => {
    const fake = fakePlugin(async () => found());
    const enricher = createEnricher({ providers: [load(fake.plugin)] });
    const statuses: string[] = [];
    for await (const item of enricher.stream(['192.168.1.1', 'example.org'])) statuses.push(...item.records.map((record) => record.status));
    expect(statuses).toEqual(['skipped', 'ok']);
  });
});
