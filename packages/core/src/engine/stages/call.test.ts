import { describe, expect, it } from 'vitest';
import { createSecretScrubber } from '../../contract/secret.js';
import { UpstreamError, XEnrichError } from '../../contract/x-enrich-error.js';
import type { Observable } from '../../contract/observable-type.js';
import type { EnrichContext, EnrichmentProvider, ProviderOutcome } from '../../contract/provider.js';
import { NEVER_ABORTED } from '../../resilience/attempt-timeout.js';
import { captureLogger } from '../../testing/capture.js';
import { CallStage, normalizeError } from './call.js';
import type { CallContext, StageEvent } from './stage.js';

const SECRET = 'sk-live-0123456789abcdef';
const FOUND: ProviderOutcome = { kind: 'found', verdict: 'malicious', confidence: 'high', reasons: [{ rule: 'r', message: 'm' }], extracted: {}, entities: [] };
const ip = (value: string): Observable => ({ type: 'ipv4', value });

function setup(provider: EnrichmentProvider) {
  const events: StageEvent[] = [];
  const stage = new CallStage({ instance: 'vt', provider, logger: captureLogger(), scrub: createSecretScrubber([SECRET]), emit: (e) => events.push(e) });
  return { stage, events };
}

describe('call stage', () => {
  it("calls enrich with the attempt's signal and reports one upstream call", async () => {
    let seen: EnrichContext | undefined;
    const { stage, events } = setup({ enrich: async (_o, context) => ((seen = context), FOUND) });
    const controller = new AbortController();
    const context: CallContext = { observables: [ip('10.0.0.1')], batch: false, signal: NEVER_ABORTED, attempt: { signal: controller.signal, pause: () => undefined, resume: () => undefined } };
    await expect(stage.execute(context)).resolves.toEqual([FOUND]);
    expect(seen?.signal).toBe(controller.signal);
    expect(seen?.attemptTimeout).toBe(context.attempt);
    expect(events).toMatchObject([{ type: 'upstream', instance: 'vt', ok: true, batchSize: 1 }]);
  });

  it('drops the raw response when no lookup in progress keeps it, leaving the provider\'s outcome as it was', async () => {
    const outcome: ProviderOutcome = { ...FOUND, raw: { body: 'large' } };
    let keeps = false;
    const stage = new CallStage({ instance: 'vt', provider: { enrich: async () => outcome }, logger: captureLogger(), scrub: createSecretScrubber([]), emit: () => undefined, keepsRaw: () => keeps });
    const context: CallContext = { observables: [ip('10.0.0.1')], batch: false, signal: NEVER_ABORTED };
    const [dropped] = await stage.execute(context);
    expect(dropped).toEqual(FOUND);
    expect(dropped).not.toHaveProperty('raw');
    expect(outcome.raw).toEqual({ body: 'large' });
    keeps = true;
    await expect(stage.execute(context)).resolves.toEqual([outcome]);
  });

  it('turns an outcome that breaks the result format into X_PROVIDER_FAILED saying what is wrong', async () => {
    const { stage, events } = setup({ enrich: async () => ({ kind: 'found', verdict: 'evil' }) as never });
    await expect(stage.execute({ observables: [ip('10.0.0.1')], batch: false, signal: NEVER_ABORTED })).rejects.toMatchObject({
      code: 'X_PROVIDER_FAILED',
      message: expect.stringMatching(/Provider "vt" returned an invalid outcome: verdict is "evil"/),
    });
    expect(events).toMatchObject([{ type: 'upstream', ok: false, errorCode: 'X_PROVIDER_FAILED' }]);
  });

  it('normalizes failures: a provider bug becomes X_PROVIDER_FAILED, an upstream error keeps its code and status, secrets are removed', async () => {
    const bug = setup({
      enrich: async () => {
        throw new TypeError(`cannot read "data" of undefined (key ${SECRET})`);
      },
    });
    const error = await bug.stage.execute({ observables: [ip('10.0.0.1')], batch: false, signal: NEVER_ABORTED }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'X_PROVIDER_FAILED', retryable: false });
    expect((error as Error).message).toMatch(/Provider "vt" failed unexpectedly: cannot read "data"/);
    expect((error as Error).message).not.toContain(SECRET);

    const upstream = setup({
      enrich: async () => {
        throw new UpstreamError('http', `GET /files?apikey=${SECRET} failed: HTTP 503`, { status: 503 });
      },
    });
    const failure = await upstream.stage.execute({ observables: [ip('10.0.0.1')], batch: false, signal: NEVER_ABORTED }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'X_UPSTREAM_HTTP', retryable: true });
    expect((failure as Error).message).not.toContain(SECRET);
    expect(upstream.events).toMatchObject([{ type: 'upstream', ok: false, errorCode: 'X_UPSTREAM_HTTP', httpStatus: 503 }]);
  });

  it('calls enrichMany for a batch: per-observable errors become values, the call is one upstream event', async () => {
    const { stage, events } = setup({
      enrich: async () => FOUND,
      enrichMany: async (observables) => observables.map((o) => (o.value === 'bad' ? new Error(`no ${SECRET}`) : FOUND)),
    });
    const results = await stage.execute({ observables: [ip('a'), ip('bad'), ip('c')], batch: true, signal: NEVER_ABORTED });
    expect(results[0]).toBe(FOUND);
    expect(results[1]).toMatchObject({ code: 'X_PROVIDER_FAILED' });
    expect((results[1] as Error).message).not.toContain(SECRET);
    expect(events).toMatchObject([{ type: 'upstream', ok: true, batchSize: 3 }]);
  });

  it('fails the whole batch when enrichMany answers the wrong number of results', async () => {
    const { stage } = setup({ enrich: async () => FOUND, enrichMany: async () => [FOUND] });
    await expect(stage.execute({ observables: [ip('a'), ip('b')], batch: true, signal: NEVER_ABORTED })).rejects.toMatchObject({
      code: 'X_PROVIDER_FAILED',
      message: 'Provider "vt" returned 1 results for a batch of 2.',
    });
  });
});

describe('normalizeError', () => {
  it('returns an x-enrich error without secrets as it is', () => {
    const error = new XEnrichError('X_TIMEOUT', 'too slow', { retryable: true });
    expect(normalizeError(error, 'vt', createSecretScrubber([SECRET]))).toBe(error);
  });
});
