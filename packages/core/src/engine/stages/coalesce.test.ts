import { describe, expect, it } from 'vitest';
import type { ProviderOutcome } from '../../contract/provider.js';
import type { CoalescingStore } from '../../contract/rate-limit-store.js';
import { CoalesceStage } from './coalesce.js';
import type { FetchResult, LookupContext, StageEvent } from './stage.js';

const FOUND: ProviderOutcome = { kind: 'found', verdict: 'benign', confidence: null, reasons: [], extracted: {}, entities: [] };
const context = (value: string, signal?: AbortSignal): LookupContext => ({ observable: { type: 'ipv4', value }, key: `k:${value}`, signal, refresh: false });

/** The rest of the chain, held open until the test settles it. */
function heldChain() {
  const calls: LookupContext[] = [];
  const pending: Array<(result: FetchResult) => void> = [];
  const next = (c: LookupContext) => {
    calls.push(c);
    return new Promise<FetchResult>((resolve) => pending.push(resolve));
  };
  const settleAll = () => pending.splice(0).forEach((resolve) => resolve({ outcome: FOUND, fetchedAt: 1, fromCache: false }));
  return { calls, next, settleAll };
}

function stage(store?: CoalescingStore) {
  const events: StageEvent[] = [];
  return { events, stage: new CoalesceStage({ instance: 'i', emit: (e) => events.push(e), store, claimTtlMs: 1_000 }) };
}

describe('coalescing stage', () => {
  it('sends concurrent lookups of one key down the chain once, and counts the ones that joined', async () => {
    const { stage: coalesce, events } = stage();
    const chain = heldChain();
    const lookups = [...Array.from({ length: 5 }, () => coalesce.execute(context('a'), chain.next)), coalesce.execute(context('b'), chain.next)];
    expect(chain.calls.map((c) => c.key)).toEqual(['k:a', 'k:b']);
    chain.settleAll();
    const results = await Promise.all(lookups);
    expect(new Set(results.slice(0, 5)).size).toBe(1);
    expect(events.filter((e) => e.type === 'coalesced')).toHaveLength(4);
  });

  it('starts afresh once a flight settled', async () => {
    const { stage: coalesce } = stage();
    const chain = heldChain();
    const first = coalesce.execute(context('a'), chain.next);
    chain.settleAll();
    await first;
    const second = coalesce.execute(context('a'), chain.next);
    expect(chain.calls).toHaveLength(2);
    chain.settleAll();
    await second;
  });

  it('lets one caller give up with X_ABORTED while the others keep the flight, and cancels it when all gave up', async () => {
    const { stage: coalesce } = stage();
    const chain = heldChain();
    const one = new AbortController();
    const two = new AbortController();
    const a = coalesce.execute(context('a', one.signal), chain.next);
    const b = coalesce.execute(context('a', two.signal), chain.next);
    const flightSignal = chain.calls[0]?.signal as AbortSignal;
    one.abort();
    await expect(a).rejects.toMatchObject({ code: 'X_ABORTED' });
    expect(flightSignal.aborted).toBe(false);
    two.abort();
    await expect(b).rejects.toMatchObject({ code: 'X_ABORTED' });
    expect(flightSignal.aborted).toBe(true);
    // A later lookup does not join the cancelled flight.
    void coalesce.execute(context('a'), chain.next);
    expect(chain.calls).toHaveLength(2);
  });

  it('across processes: the claim holder re-reads the cache, fetches and releases; a waiter goes on marked fetchedElsewhere after the release', async () => {
    const log: string[] = [];
    let release: (() => void) | undefined;
    const store: CoalescingStore = {
      claim: async (key) => (log.push(`claim ${key}`), key === 'k:mine'),
      waitFor: (key) => (log.push(`wait ${key}`), new Promise((resolve) => (release = () => resolve(true)))),
      release: async (key) => void log.push(`release ${key}`),
    };
    const { stage: coalesce } = stage(store);
    const seen: LookupContext[] = [];
    const next = async (c: LookupContext): Promise<FetchResult> => (seen.push(c), { outcome: FOUND, fetchedAt: 1, fromCache: false });

    await coalesce.execute(context('mine'), next);
    expect(log).toEqual(['claim k:mine', 'release k:mine']);
    // Another process may have filled the cache between our miss and our claim.
    expect(seen[0]).toMatchObject({ key: 'k:mine', fetchedElsewhere: true });

    const theirs = coalesce.execute(context('theirs'), next);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(1); // still waiting for the other process
    release?.();
    await theirs;
    expect(seen[1]).toMatchObject({ key: 'k:theirs', fetchedElsewhere: true });
    expect(log.slice(2)).toEqual(['claim k:theirs', 'wait k:theirs']); // never released: not ours
  });

  it('fetches itself when the coalescing store fails', async () => {
    const store: CoalescingStore = {
      claim: async () => {
        throw new Error('connection refused');
      },
      waitFor: async () => true,
      release: async () => {
        throw new Error('connection refused');
      },
    };
    const { stage: coalesce } = stage(store);
    const seen: LookupContext[] = [];
    const result = await coalesce.execute(context('a'), async (c) => (seen.push(c), { outcome: FOUND, fetchedAt: 1, fromCache: false }));
    expect(result.outcome).toBe(FOUND);
    expect(seen).toHaveLength(1);
  });

  it('a claim holder that refreshes goes on to fetch without re-reading the cache', async () => {
    const store: CoalescingStore = { claim: async () => true, waitFor: async () => true, release: async () => undefined };
    const { stage: coalesce } = stage(store);
    const seen: LookupContext[] = [];
    await coalesce.execute({ ...context('a'), refresh: true }, async (c) => (seen.push(c), { outcome: FOUND, fetchedAt: 1, fromCache: false }));
    expect(seen[0]?.fetchedElsewhere).toBeUndefined();
  });
});
