import { describe, expect, it } from 'vitest';
import { zResilienceConfig } from '../config/config-schema.js';
import { UpstreamError } from '../contract/x-enrich-error.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { createResiliencePolicies } from './policies.js';

const never = new AbortController().signal;
const serverError = () => new UpstreamError('http', 'upstream answered 503', { status: 503 });
const auth = (status = 401) => new UpstreamError('auth', `upstream answered ${status}`, { status });

/** Calls the policies `count` times, `gapMs` apart on the fake clock, each call failing (or not); returns the codes. */
async function drive(policies: ReturnType<typeof createResiliencePolicies>, clock: ReturnType<typeof createFakeClock>, count: number, gapMs: number, fails: (i: number) => boolean) {
  let upstreamCalls = 0;
  const codes: string[] = [];
  for (let i = 0; i < count; i++) {
    await clock.advance(gapMs);
    const outcome = await policies
      .execute(async () => {
        upstreamCalls++;
        if (fails(i)) throw serverError();
        return 'ok';
      }, never)
      .catch((error: { code: string }) => error.code);
    codes.push(outcome);
  }
  return { codes, upstreamCalls };
}

describe('circuit breaker defaults (count-based)', () => {
  const config = zResilienceConfig.parse({ retry: false, timeout: 0 });
  // The half-open delay runs on the fake clock too: an hour keeps these drives (minutes long) from probing.
  const staysOpen = zResilienceConfig.parse({ retry: false, timeout: 0, circuitBreaker: { halfOpenAfter: '1h' } });

  it('documents its defaults: ratio 0.5 over the last 20 calls, from 5 calls on, half-open after 30 s', () => {
    expect(config.circuitBreaker).toEqual({ threshold: 0.5, window: 20, minimumCalls: 5, samplingDuration: 30_000, halfOpenAfter: 30_000 });
  });

  for (const [rate, gapMs] of [
    ['4 a minute', 15_000],
    ['100 a second', 10],
  ] as const) {
    it(`opens on sustained failure at ${rate}, after minimumCalls failed calls`, async () => {
      const clock = createFakeClock();
      const states: string[] = [];
      const policies = createResiliencePolicies(staysOpen, { onCircuitStateChange: (state) => states.push(state) }, { clock });
      const { codes, upstreamCalls } = await drive(policies, clock, 12, gapMs, () => true);
      expect(codes.slice(0, 5)).toEqual(Array(5).fill('X_UPSTREAM_HTTP'));
      expect(codes.slice(5)).toEqual(Array(7).fill('X_CIRCUIT_OPEN'));
      expect(upstreamCalls).toBe(5);
      expect(policies.circuitState).toBe('open');
      expect(states).toEqual(['open']);
    });
  }

  it('stays closed at a failure ratio under the threshold, at any rate', async () => {
    const clock = createFakeClock();
    const policies = createResiliencePolicies(config, {}, { clock });
    // One call in three fails: 33 % < 50 %.
    const { codes } = await drive(policies, clock, 60, 15_000, (i) => i % 3 === 0);
    expect(codes).not.toContain('X_CIRCUIT_OPEN');
    expect(policies.circuitState).toBe('closed');
  });

  it('keeps the opt-in rate-based breaker (minimumRps) and the consecutive one', async () => {
    const clock = createFakeClock();
    const consecutive = createResiliencePolicies(zResilienceConfig.parse({ retry: false, circuitBreaker: { consecutiveFailures: 3, halfOpenAfter: '1h' } }), {}, { clock });
    expect((await drive(consecutive, clock, 4, 60_000, () => true)).codes.at(-1)).toBe('X_CIRCUIT_OPEN');
    // A rate-based breaker never opens at 4 a minute: why it is not the default.
    const sampling = createResiliencePolicies(zResilienceConfig.parse({ retry: false, circuitBreaker: { minimumRps: 1 } }), {}, { clock });
    expect((await drive(sampling, clock, 10, 15_000, () => true)).codes).not.toContain('X_CIRCUIT_OPEN');
  });
});

describe('on the injected clock', () => {
  it('half-opens exactly halfOpenAfter of clock time after opening; a failed probe opens it for another halfOpenAfter', async () => {
    const clock = createFakeClock();
    const states: string[] = [];
    const policies = createResiliencePolicies(zResilienceConfig.parse({ retry: false, timeout: 0, circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: '30s' } }), { onCircuitStateChange: (state) => states.push(state) }, { clock });
    let healthy = false;
    let calls = 0;
    const call = () =>
      policies
        .execute(async () => {
          calls++;
          if (!healthy) throw serverError();
          return 'ok';
        }, never)
        .catch((error: { code: string }) => error.code);
    expect(await call()).toBe('X_UPSTREAM_HTTP');
    await clock.advance(29_999);
    expect(await call()).toBe('X_CIRCUIT_OPEN');
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(await call()).toBe('X_UPSTREAM_HTTP'); // the probe, which fails
    await clock.advance(29_999);
    expect(await call()).toBe('X_CIRCUIT_OPEN');
    await clock.advance(1);
    healthy = true;
    expect(await call()).toBe('ok');
    expect(calls).toBe(3);
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('times an attempt out after exactly `timeout` of clock time, not counting the time it was paused', async () => {
    const clock = createFakeClock();
    const timeouts: number[] = [];
    const policies = createResiliencePolicies(zResilienceConfig.parse({ retry: false, circuitBreaker: false, timeout: '8s' }), { onTimeout: () => timeouts.push(clock.now()) }, { clock });
    let seen: AbortSignal | undefined;
    const started = clock.now();
    const outcome = policies
      .execute((attempt) => {
        seen = attempt.signal;
        attempt.pause(); // as the upstream client does while it waits for rate-limit budget
        void clock.sleep(5_000).then(() => attempt.resume());
        return new Promise<string>(() => undefined);
      }, never)
      .catch((error: { code: string }) => error.code);
    await clock.advance(12_999);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    expect(seen?.aborted).toBe(true);
    expect(await outcome).toBe('X_TIMEOUT');
    expect(timeouts).toEqual([started + 13_000]);
    // Nothing keeps sleeping on the clock once the attempt is over.
    expect(clock.sleepers).toBe(0);
  });
});

describe('auth latch', () => {
  it('after a 401 fails every further call fast with X_UPSTREAM_AUTH, without calling the upstream (CLI: for the run)', async () => {
    const clock = createFakeClock();
    const latched: string[] = [];
    const policies = createResiliencePolicies(zResilienceConfig.parse({}), { onAuthLatch: (state) => latched.push(state) }, { clock });
    let calls = 0;
    const call = () =>
      policies
        .execute(async () => {
          calls++;
          throw auth();
        }, never)
        .catch((error: { code: string; message: string; retryable: boolean }) => error);
    const first = await call();
    expect(first).toMatchObject({ code: 'X_UPSTREAM_AUTH', retryable: false });
    const rest = await Promise.all(Array.from({ length: 499 }, call));
    expect(calls).toBe(1); // 500 inputs, one refused call (retries and the breaker leave 401s alone)
    expect(rest.every((error) => error.code === 'X_UPSTREAM_AUTH' && /no more calls in this run/.test(error.message))).toBe(true);
    await clock.advance(3_600_000);
    await call();
    expect(calls).toBe(1);
    expect(latched).toEqual(['latched']);
  });

  it('serve (authProbeAfter): lets one probe through after the delay; a success resumes calls, a 403 latches again', async () => {
    const clock = createFakeClock();
    const policies = createResiliencePolicies(zResilienceConfig.parse({ retry: false, authProbeAfter: '1m' }), {}, { clock });
    let calls = 0;
    let answer: () => Promise<string> = () => Promise.reject(auth(403));
    const call = () =>
      policies
        .execute(() => {
          calls++;
          return answer();
        }, never)
        .catch((error: { code: string }) => error.code);
    expect(await call()).toBe('X_UPSTREAM_AUTH');
    await clock.advance(59_000);
    expect(await call()).toBe('X_UPSTREAM_AUTH');
    expect(calls).toBe(1);
    await clock.advance(1_000);
    // The probe: one call reaches the upstream, the others keep failing fast meanwhile.
    let release!: () => void;
    answer = () => new Promise<string>((resolve) => (release = () => resolve('ok')));
    const probe = call();
    expect(await call()).toBe('X_UPSTREAM_AUTH');
    expect(calls).toBe(2);
    release();
    expect(await probe).toBe('ok');
    answer = async () => 'ok';
    expect(await call()).toBe('ok');
    expect(calls).toBe(3);
    answer = () => Promise.reject(auth(403));
    expect(await call()).toBe('X_UPSTREAM_AUTH');
    expect(await call()).toBe('X_UPSTREAM_AUTH');
    expect(calls).toBe(4);
  });
});

describe('bulkhead', () => {
  it('rejects a call whose caller gives up while it waits for a slot with X_ABORTED, the reason as cause, and runs it never', async () => {
    const policies = createResiliencePolicies(zResilienceConfig.parse({ retry: false, timeout: 0, bulkhead: { maxConcurrent: 1, maxQueue: 5 } }));
    let release: (() => void) | undefined;
    const busy = policies.execute(() => new Promise<string>((resolve) => (release = () => resolve('first'))), never);
    const caller = new AbortController();
    let ranQueued = false;
    const queued = policies.execute(async () => ((ranQueued = true), 'second'), caller.signal);
    const reason = new Error('the client hung up');
    caller.abort(reason);
    release!();
    await expect(busy).resolves.toBe('first');
    await expect(queued).rejects.toMatchObject({ code: 'X_ABORTED', cause: reason });
    expect(ranQueued).toBe(false);
    // Already aborted before it asks: the same answer at once.
    await expect(policies.execute(async () => 'third', caller.signal)).rejects.toMatchObject({ code: 'X_ABORTED' });
    // A caller's abort is not an upstream failure: the circuit stays closed.
    expect(policies.circuitState).toBe('closed');
  });
});

describe('a caller that gives up while the half-open probe runs', () => {
  it('fails with X_ABORTED once the probe closes the circuit, not with cockatiel\'s raw TaskCancelledError', async () => {
    const clock = createFakeClock();
    const policies = createResiliencePolicies(zResilienceConfig.parse({ retry: false, timeout: 0, bulkhead: false, circuitBreaker: { consecutiveFailures: 1, halfOpenAfter: '30s' } }), {}, { clock });
    await expect(policies.execute(async () => Promise.reject(serverError()), never)).rejects.toMatchObject({ code: 'X_UPSTREAM_HTTP' });
    await clock.advance(30_000);
    let answerProbe: (() => void) | undefined;
    const probe = policies.execute(() => new Promise<string>((resolve) => (answerProbe = () => resolve('probe'))), never);
    expect(policies.circuitState).toBe('half-open');
    const caller = new AbortController();
    let ran = false;
    const waiting = policies.execute(async () => ((ran = true), 'waiter'), caller.signal);
    caller.abort(new Error('gave up'));
    answerProbe!();
    await expect(probe).resolves.toBe('probe');
    await expect(waiting).rejects.toMatchObject({ code: 'X_ABORTED' });
    expect(ran).toBe(false);
    expect(policies.circuitState).toBe('closed');
  });
});
