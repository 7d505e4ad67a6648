import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../testing/fake-clock.js';
import { StatsCollector } from './stats.js';

describe('stats collector', () => {
  it('counts lookups, cache hits, errors, coalesced lookups, calls, retries, timeouts and bulkhead refusals from events', () => {
    const stats = new StatsCollector(createFakeClock(), () => 'closed');
    const lookup = { type: 'lookup', instance: 'i', observableType: 'ipv4', durationMs: 0 } as const;
    stats.observe({ ...lookup, status: 'ok', cacheHit: true });
    stats.observe({ ...lookup, status: 'ok', cacheHit: false });
    stats.observe({ ...lookup, status: 'error', cacheHit: false, errorCode: 'X_TIMEOUT' });
    stats.observe({ ...lookup, status: 'unsupported', cacheHit: false });
    stats.observe({ type: 'coalesced', instance: 'i' });
    stats.observe({ type: 'upstream', instance: 'i', durationMs: 1, ok: true, batchSize: 1 });
    stats.observe({ type: 'retry', instance: 'i', attempt: 1, delayMs: 10 });
    stats.observe({ type: 'timeout', instance: 'i' });
    stats.observe({ type: 'bulkhead_rejected', instance: 'i' });
    stats.observe({ type: 'http', instance: 'i', method: 'GET', status: 200, durationMs: 1 });
    stats.countError('X_OBSERVABLE_INVALID');
    expect(stats.snapshot()).toMatchObject({
      lookups: 3,
      cacheHits: 1,
      coalesced: 1,
      upstreamCalls: 1,
      retries: 1,
      timeouts: 1,
      bulkheadRejections: 1,
      errors: { X_TIMEOUT: 1, X_OBSERVABLE_INVALID: 1 },
    });
  });

  it('counts overlapping waits for quota once in the time blocked, the wait in progress included', async () => {
    const clock = createFakeClock();
    const stats = new StatsCollector(clock, () => 'closed');
    const wait = (phase: 'start' | 'end') => stats.observe({ type: 'quota_wait', instance: 'i', phase, at: clock.now() });
    wait('start');
    await clock.advance(100);
    wait('start');
    await clock.advance(300);
    expect(stats.snapshot()).toMatchObject({ waitingForQuota: 2, quotaBlockedMs: 400 });
    wait('end');
    await clock.advance(100);
    wait('end');
    stats.observe({ type: 'rate_limit_wait', instance: 'i', waitedMs: 500 });
    stats.observe({ type: 'rate_limit_wait', instance: 'i', waitedMs: 400 });
    await clock.advance(1_000);
    expect(stats.snapshot()).toMatchObject({ waitingForQuota: 0, quotaBlockedMs: 500, quotaWaitMs: 900 });
  });

  it('reads the circuit state live and hands out copies', () => {
    let state: 'closed' | 'open' = 'closed';
    const stats = new StatsCollector(createFakeClock(), () => state);
    const before = stats.snapshot();
    state = 'open';
    stats.countError('X_CIRCUIT_OPEN');
    expect(before).toMatchObject({ circuitState: 'closed', errors: {} });
    expect(stats.snapshot()).toMatchObject({ circuitState: 'open', errors: { X_CIRCUIT_OPEN: 1 } });
  });
});
