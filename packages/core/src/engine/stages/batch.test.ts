import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../contract/x-enrich-error.js';
import type { ProviderManifest } from '../../contract/manifest.js';
import type { EnrichmentProvider, ProviderOutcome } from '../../contract/provider.js';
import { createFakeClock } from '../../testing/fake-clock.js';
import { BatchStage, batchSettings } from './batch.js';
import type { CallContext, CallResult, LookupContext } from './stage.js';

const found = (value: string): ProviderOutcome => ({ kind: 'found', verdict: 'benign', confidence: null, reasons: [], extracted: { value }, entities: [] });
const lookup = (type: 'sha256' | 'url' | 'ipv4', value: string): LookupContext => ({ observable: { type, value }, key: value, signal: undefined, refresh: false });

function setup(maxSize = 3, maxWaitMs = 50) {
  const clock = createFakeClock();
  const stage = new BatchStage(clock, { groups: [['sha256'], ['url']], maxSize, maxWaitMs });
  const calls: CallContext[] = [];
  const next = async (c: CallContext): Promise<CallResult> => {
    calls.push(c);
    return c.observables.map((o) => (o.value === 'bad' ? new UpstreamError('bad_request', 'HTTP 400') : found(o.value)));
  };
  return { clock, stage, calls, next };
}

describe('batch stage', () => {
  it('sends a group once it is full, and a partial group maxWaitMs later on the clock, not before', async () => {
    const { clock, stage, calls, next } = setup();
    const lookups = ['h1', 'h2', 'h3', 'h4'].map((v) => stage.execute(lookup('sha256', v), next));
    await clock.advance(0);
    expect(calls.map((c) => c.observables.map((o) => o.value))).toEqual([['h1', 'h2', 'h3']]);
    await clock.advance(49);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls.map((c) => [c.batch, c.observables.map((o) => o.value)])).toEqual([
      [true, ['h1', 'h2', 'h3']],
      [true, ['h4']],
    ]);
    const results = await Promise.all(lookups);
    expect(results.map((r) => r.outcome.kind === 'found' && r.outcome.extracted.value)).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(results[3]).toMatchObject({ fromCache: false, fetchedAt: clock.now() });
  });

  it('fails only the observable whose entry is an Error, and keeps groups apart', async () => {
    const { clock, stage, calls, next } = setup();
    const hash = stage.execute(lookup('sha256', 'h1'), next);
    const bad = expect(stage.execute(lookup('sha256', 'bad'), next)).rejects.toMatchObject({ code: 'X_UPSTREAM_BAD_REQUEST' });
    const url = stage.execute(lookup('url', 'http://x.test/'), next);
    await clock.advance(50);
    expect(calls.map((c) => c.observables.length)).toEqual([2, 1]);
    await expect(hash).resolves.toMatchObject({ outcome: { kind: 'found' } });
    await bad;
    await expect(url).resolves.toMatchObject({ outcome: { kind: 'found' } });
  });

  it('sends a type outside every group alone, at once, as a single call', async () => {
    const { stage, calls, next } = setup();
    await expect(stage.execute(lookup('ipv4', '10.0.0.1'), next)).resolves.toMatchObject({ outcome: { kind: 'found' } });
    expect(calls.map((c) => c.batch)).toEqual([false]);
  });

  it('fails every lookup of a batch when the call fails', async () => {
    const { clock, stage } = setup();
    const failing = async (): Promise<CallResult> => {
      throw new UpstreamError('network', 'ECONNRESET');
    };
    const both = ['h1', 'h2'].map((v) => expect(stage.execute(lookup('sha256', v), failing)).rejects.toMatchObject({ code: 'X_UPSTREAM_NETWORK' }));
    await clock.advance(50);
    await Promise.all(both);
  });

  it('batches at the smaller of the manifest and instance sizes, and refuses a bad instance size', () => {
    const manifest = { packageName: '@x/p', observableTypes: ['sha256'], batch: { maxSize: 10, maxWaitMs: 5 } } as unknown as ProviderManifest;
    const provider = (batchSize?: unknown) => ({ enrich: async () => found(''), enrichMany: async () => [], batchSize }) as unknown as EnrichmentProvider;
    expect(batchSettings(provider(4), manifest, 'p')).toEqual({ groups: [['sha256']], maxSize: 4, maxWaitMs: 5 });
    expect(batchSettings(provider(), manifest, 'p')?.maxSize).toBe(10);
    expect(batchSettings({ enrich: async () => found('') }, manifest, 'p')).toBeUndefined();
    expect(() => batchSettings(provider(0.5), manifest, 'p')).toThrow(/batchSize 0.5; expected a whole number/);
  });
});
