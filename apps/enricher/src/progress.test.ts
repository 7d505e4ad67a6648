import { describe, expect, it } from 'vitest';
import type { EnricherStats, InstanceStats } from '@x/core';
import { budgetsFromStats, estimateRemainingMs, humanDuration, minimumTimeMs, runEta, upfrontEstimate } from './progress.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const publicKey = (remaining = 4, dayRemaining = 500) => [
  { requests: 4, perMs: MINUTE, remaining },
  { requests: 500, perMs: DAY, remaining: dayRemaining },
];

describe('rate-limit-aware estimates', () => {
  it('knows that 100 new lookups at 4 a minute take about 24 minutes with a full budget', () => {
    expect(minimumTimeMs(100, publicKey())).toBe(24 * MINUTE);
    expect(minimumTimeMs(4, publicKey())).toBe(0);
    expect(minimumTimeMs(5, publicKey())).toBe(MINUTE);
  });

  it('waits for the day window once the day budget is spent', () => {
    expect(minimumTimeMs(10, publicKey(4, 0))).toBe(DAY * 1);
  });

  it('says so up front, naming the slowest provider', () => {
    expect(upfrontEstimate(100, [{ name: 'vt3', windows: publicKey() }, { name: 'local', windows: [] }])).toBe(
      '100 observables; vt3 allows 4 lookups per 1m, so uncached ones need about 24m with the budget to itself (cache hits are free; other runs spending it add to this, and the ETA counts them). Ctrl-C stops cleanly.',
    );
    // Two other runs have published their demand: the estimate counts them and says so.
    expect(upfrontEstimate(20, [{ name: 'vt3', windows: publicKey(), sharedWith: [20, 0, 20] }])).toBe(
      '20 observables; vt3 allows 4 lookups per 1m, so uncached ones need about 14m sharing the budget with 2 other runs (cache hits are free; the ETA follows their progress). Ctrl-C stops cleanly.',
    );
    expect(upfrontEstimate(3, [{ name: 'vt3', windows: publicKey() }])).toBeUndefined();
    expect(upfrontEstimate(1000, [])).toBeUndefined();
  });

  it('projects the rate limit onto the lookups still expected to miss the cache', () => {
    const budgets = [{ name: 'vt3', windows: publicKey(0) }];
    // Half the lookups so far were cache hits: 50 remaining inputs -> 25 expected misses -> 7 minutes.
    expect(estimateRemainingMs({ total: 100, done: 50, elapsedMs: 1000, misses: 25, lookupsDone: 50, budgets })).toBe(7 * MINUTE);
    // No rate limit: the observed pace.
    expect(estimateRemainingMs({ total: 100, done: 50, elapsedMs: 5000, misses: 50, lookupsDone: 50, budgets: [] })).toBe(5000);
    expect(estimateRemainingMs({ total: 10, done: 10, elapsedMs: 5000, misses: 0, lookupsDone: 10, budgets })).toBe(0);
  });

  it('does not count the lookups in flight again: their budget is already spent', () => {
    // 8 per 10 s, 40 lookups, mid-wave: 20 done, 4 granted and not answered, the window spent.
    const windows = [{ requests: 8, perMs: 10_000, remaining: 0, freesInMs: 10_000 }];
    const input = { total: 40, done: 20, elapsedMs: 20_000, misses: 20, lookupsDone: 20 };
    // 16 still need budget: two more waves, the last 10 s after the next.
    expect(estimateRemainingMs({ ...input, budgets: [{ name: 'vt3', windows, inFlight: 4 }] })).toBe(20_000);
    expect(estimateRemainingMs({ ...input, budgets: [{ name: 'vt3', windows }] })).toBe(30_000);
  });

  it("reads the budget from the engine's synchronous stats, aged to now, and counts the others sharing it", () => {
    const base = { lookups: 0, cacheHits: 0, coalesced: 0, upstreamCalls: 0, errors: {}, retries: 0, timeouts: 0, bulkheadRejections: 0, circuitState: 'closed', quotaWaitMs: 0, quotaBlockedMs: 0, waitingForQuota: 0 } satisfies InstanceStats;
    const stats: EnricherStats = {
      vt3: { ...base, quota: { windows: [{ requests: 8, perMs: 10_000, remaining: 0, freesInMs: 6_000 }], at: 1_000, demand: 14, othersDemand: [14, 20], inFlight: 0 } },
      local: base,
    };
    const budgets = budgetsFromStats(stats, 3_000);
    expect(budgets).toEqual([
      { name: 'vt3', windows: [{ requests: 8, perMs: 10_000, remaining: 0, freesInMs: 4_000 }], sharedWith: [14, 20], inFlight: 0 },
      { name: 'local', windows: [] },
    ]);
    expect(budgetsFromStats(stats, 3_000, ['local'])).toHaveLength(1);
    // 14 observables x 2 instances done of 28: 14 misses left here, 14 + 14 of the others': 42 requests, 8 per 10 s, the first 8 in 4 s.
    expect(runEta({ lookups: 28, cacheHits: 0 }, { total: 28, instances: 2, elapsedMs: 20_000, budgets }).etaMs).toBe(4_000 + 5 * 10_000);
    // Alone, the same 14 would take two waves.
    expect(runEta({ lookups: 28, cacheHits: 0 }, { total: 28, instances: 2, elapsedMs: 20_000, budgets: [{ name: 'vt3', windows: budgets[0]!.windows }] }).etaMs).toBe(14_000);
  });

  it('prints durations for people', () => {
    expect(humanDuration(24 * MINUTE)).toBe('24m');
    expect(humanDuration(65 * MINUTE)).toBe('1h05m');
    expect(humanDuration(DAY + 3 * 3_600_000)).toBe('1d03h');
    expect(humanDuration(1500)).toBe('1.5s');
    expect(humanDuration(45_000)).toBe('45s');
  });
});
