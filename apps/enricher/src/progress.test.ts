import { describe, expect, it } from 'vitest';
import { estimateRemainingMs, humanDuration, minimumTimeMs, upfrontEstimate } from './progress.js';

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
      '100 observables; vt3 allows 4 lookups per 1m, so uncached ones may take up to 24m (cache hits are free). Ctrl-C stops cleanly.',
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

  it('prints durations for people', () => {
    expect(humanDuration(24 * MINUTE)).toBe('24m');
    expect(humanDuration(65 * MINUTE)).toBe('1h05m');
    expect(humanDuration(DAY + 3 * 3_600_000)).toBe('1d03h');
    expect(humanDuration(1500)).toBe('1.5s');
    expect(humanDuration(45_000)).toBe('45s');
  });
});
