import { describe, expect, it } from 'vitest';
import { zResilienceConfig } from '../../config/config-schema.js';
import { UpstreamError } from '../../contract/x-enrich-error.js';
import type { ProviderOutcome } from '../../contract/provider.js';
import { createMemoryRateLimitStore } from '../../rate-limit/memory-rate-limit-store.js';
import { createRateLimiter } from '../../rate-limit/rate-limiter.js';
import { NEVER_ABORTED } from '../../resilience/attempt-timeout.js';
import { captureLogger } from '../../testing/capture.js';
import { createFakeClock, type FakeClock } from '../../testing/fake-clock.js';
import { GuardStage, guardLimiter } from './guard.js';
import type { CallContext, CallResult, StageEvent } from './stage.js';

const FOUND: ProviderOutcome = { kind: 'found', verdict: 'benign', confidence: null, reasons: [], extracted: {}, entities: [] };
const call = (signal: AbortSignal = NEVER_ABORTED): CallContext => ({ observables: [{ type: 'ipv4', value: '10.0.0.1' }], batch: false, signal });

function guard(resilience: Record<string, unknown>, clock: FakeClock = createFakeClock()) {
  const events: StageEvent[] = [];
  const stage = new GuardStage({
    instance: 'i',
    resilience: zResilienceConfig.parse({ circuitBreaker: false, bulkhead: false, timeout: 0, ...resilience }),
    clock,
    logger: captureLogger(),
    emit: (e) => events.push(e),
    pausableTimeout: false,
  });
  return { stage, events, clock };
}

/** A provider call that fails with the queued errors, then succeeds; it counts the attempts. */
function flaky(...errors: Error[]) {
  const attempts: CallContext[] = [];
  const next = async (c: CallContext): Promise<CallResult> => {
    attempts.push(c);
    const error = errors.shift();
    if (error) throw error;
    return [FOUND];
  };
  return { attempts, next };
}

const http503 = () => new UpstreamError('http', 'HTTP 503', { status: 503 });

describe('guard stage: retry on the clock', () => {
  it('waits each backoff on the injected clock: no second attempt until the clock moves past the delay', async () => {
    const { stage, events, clock } = guard({ retry: { maxAttempts: 2, initialDelay: 1_000, maxDelay: 5_000 } });
    const { attempts, next } = flaky(http503(), http503());
    const result = stage.execute(call(), next);
    await clock.advance(0);
    expect(attempts).toHaveLength(1);
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries).toHaveLength(1);
    const firstDelay = retries[0]?.type === 'retry' ? retries[0].delayMs : NaN;
    expect(firstDelay).toBeGreaterThan(0);
    expect(firstDelay).toBeLessThanOrEqual(5_000);
    await clock.advance(firstDelay - 1);
    expect(attempts).toHaveLength(1);
    await clock.advance(1);
    expect(attempts).toHaveLength(2);
    while (await clock.next());
    await expect(result).resolves.toEqual([FOUND]);
    expect(attempts).toHaveLength(3);
    expect(events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && [e.attempt, e.errorCode])).toEqual([
      [1, 'X_UPSTREAM_HTTP'],
      [2, 'X_UPSTREAM_HTTP'],
    ]);
    // Every attempt ran under its own attempt context.
    expect(attempts.every((a) => a.attempt !== undefined)).toBe(true);
  });

  it("honours the upstream's Retry-After, capped by maxDelay", async () => {
    const { stage, events, clock } = guard({ retry: { maxAttempts: 2, initialDelay: 1, maxDelay: 8_000 } });
    const { next } = flaky(new UpstreamError('quota', 'HTTP 429', { status: 429, retryAfterMs: 6_000 }), new UpstreamError('quota', 'HTTP 429', { status: 429, retryAfterMs: 60_000 }));
    const result = stage.execute(call(), next);
    while (await clock.next());
    await result;
    expect(events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && e.delayMs)).toEqual([6_000, 8_000]);
  });

  it('gives up after maxAttempts retries with the last error', async () => {
    const { stage, clock } = guard({ retry: { maxAttempts: 1, initialDelay: 10, maxDelay: 10 } });
    const { attempts, next } = flaky(http503(), new UpstreamError('network', 'ECONNRESET'), http503());
    const result = expect(stage.execute(call(), next)).rejects.toMatchObject({ code: 'X_UPSTREAM_NETWORK' });
    while (await clock.next());
    await result;
    expect(attempts).toHaveLength(2);
  });

  it.each([
    ['400', new UpstreamError('bad_request', 'HTTP 400', { status: 400 })],
    ['401', new UpstreamError('auth', 'HTTP 401', { status: 401 })],
    ['404', new UpstreamError('http', 'HTTP 404', { status: 404, retryable: false })],
    ['a provider bug', new TypeError('x is undefined')],
  ])('never retries %s', async (_what, error) => {
    const { stage, clock } = guard({ retry: { maxAttempts: 3, initialDelay: 10, maxDelay: 10 } });
    const { attempts, next } = flaky(error);
    await expect(stage.execute(call(), next)).rejects.toBe(error);
    expect(clock.sleepers).toBe(0);
    expect(attempts).toHaveLength(1);
  });

  it('stops waiting for a retry as soon as the signal aborts', async () => {
    const { stage, clock } = guard({ retry: { maxAttempts: 3, initialDelay: 60_000, maxDelay: 60_000 } });
    const controller = new AbortController();
    const { attempts, next } = flaky(http503(), http503());
    const result = stage.execute(call(controller.signal), next);
    await clock.advance(0);
    expect(clock.sleepers).toBe(1);
    controller.abort();
    await expect(result).rejects.toMatchObject({ code: 'X_ABORTED' });
    expect(attempts).toHaveLength(1);
  });
});

// The circuit breaker's half-open wait and the attempt timeout run on the injected clock too.
describe('guard stage: circuit breaker, timeout and bulkhead', () => {
  it('opens after consecutive failures, fails fast without calling the provider, and closes after a half-open probe', async () => {
    const { stage, events, clock } = guard({ retry: false, circuitBreaker: { consecutiveFailures: 2, halfOpenAfter: 30_000 } });
    const { attempts, next } = flaky(new UpstreamError('network', 'ECONNRESET'), new UpstreamError('network', 'ECONNRESET'));
    await expect(stage.execute(call(), next)).rejects.toMatchObject({ code: 'X_UPSTREAM_NETWORK' });
    await expect(stage.execute(call(), next)).rejects.toMatchObject({ code: 'X_UPSTREAM_NETWORK' });
    expect(stage.circuitState).toBe('open');
    await expect(stage.execute(call(), next)).rejects.toMatchObject({ code: 'X_CIRCUIT_OPEN', retryable: true });
    expect(attempts).toHaveLength(2);
    await clock.advance(29_999);
    await expect(stage.execute(call(), next)).rejects.toMatchObject({ code: 'X_CIRCUIT_OPEN' });
    await clock.advance(1);
    await expect(stage.execute(call(), next)).resolves.toEqual([FOUND]);
    expect(stage.circuitState).toBe('closed');
    expect(events.filter((e) => e.type === 'circuit').map((e) => e.type === 'circuit' && e.state)).toEqual(['open', 'half-open', 'closed']);
  });

  it('retries a transient failure, but not the open circuit that failure caused', async () => {
    const { stage, clock, events } = guard({ retry: { maxAttempts: 3, initialDelay: 1, maxDelay: 1 }, circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 30_000 } });
    const { attempts, next } = flaky(http503(), http503(), http503(), http503());
    const result = expect(stage.execute(call(), next)).rejects.toMatchObject({ code: 'X_CIRCUIT_OPEN' });
    while (await clock.next());
    await result;
    expect(attempts).toHaveLength(1);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(1);
  });

  it('times an attempt out: the provider sees its attempt signal abort, and the call fails with X_TIMEOUT', async () => {
    const { stage, events, clock } = guard({ retry: false, timeout: 1_000 });
    let attemptSignal: AbortSignal | undefined;
    const hanging = (c: CallContext): Promise<CallResult> => {
      attemptSignal = c.attempt?.signal;
      return new Promise(() => undefined);
    };
    const result = expect(stage.execute(call(), hanging)).rejects.toMatchObject({ code: 'X_TIMEOUT', retryable: true });
    await clock.advance(999);
    expect(attemptSignal?.aborted).toBe(false);
    expect(events.filter((e) => e.type === 'timeout')).toHaveLength(0);
    // The deadline is checked every timeout/8 of the clock's time; 1,000 ms is a tick, so it fires exactly then.
    await clock.advance(1);
    expect(attemptSignal?.aborted).toBe(true);
    await result;
    expect(events.filter((e) => e.type === 'timeout')).toHaveLength(1);
  });

  it('refuses a call beyond the bulkhead with X_BULKHEAD_FULL', async () => {
    const { stage, events } = guard({ retry: false, bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
    let finish: (() => void) | undefined;
    const slow = (): Promise<CallResult> => new Promise((resolve) => (finish = () => resolve([FOUND])));
    const first = stage.execute(call(), slow);
    await expect(stage.execute(call(), slow)).rejects.toMatchObject({ code: 'X_BULKHEAD_FULL' });
    finish?.();
    await expect(first).resolves.toEqual([FOUND]);
    expect(events.map((e) => e.type)).toEqual(['bulkhead_rejected']);
  });
});

describe('guardLimiter: waiting for quota on the clock', () => {
  it('reports each wait (start, end, and its length on the clock) and resolves only when the clock frees budget', async () => {
    const clock = createFakeClock();
    const events: StageEvent[] = [];
    const base = createRateLimiter({ key: 'i', windows: [{ requests: 1, perMs: 60_000 }], store: createMemoryRateLimitStore(), clock });
    const limiter = guardLimiter(base, { instance: 'i', clock, emit: (e) => events.push(e) });
    // Answered at once: the charge counts from now (an unsettled one would count as in flight).
    await (await limiter.acquire(1)).settle();
    let granted = false;
    const second = limiter.acquire(1).then(() => (granted = true));
    await clock.advance(59_999);
    expect(granted).toBe(false);
    expect(events.map((e) => (e.type === 'quota_wait' ? e.phase : e.type))).toEqual(['start', 'end', 'start']);
    await clock.advance(1);
    await second;
    expect(events.slice(3)).toEqual([
      { type: 'quota_wait', instance: 'i', phase: 'end', at: clock.now() },
      { type: 'rate_limit_wait', instance: 'i', waitedMs: 60_000 },
    ]);
    expect(limiter.waitedMs).toBe(60_000);
  });
});

describe('guard stage: policies built on the first call', () => {
  it('reports the circuit of a new breaker before any call (closed, or disabled without one), and the live one after', async () => {
    const withBreaker = guard({ retry: false, circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: 60_000 } });
    expect(withBreaker.stage.circuitState).toBe('closed');
    expect(guard({ retry: false }).stage.circuitState).toBe('disabled');
    await expect(withBreaker.stage.execute(call(), flaky(http503()).next)).rejects.toThrow('HTTP 503');
    expect(withBreaker.stage.circuitState).toBe('open');
    expect(withBreaker.events).toContainEqual({ type: 'circuit', instance: 'i', state: 'open' });
  });
});
