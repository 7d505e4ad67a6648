import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { zResilienceConfig } from '../config/config-schema.js';
import { UpstreamError, XEnrichError, isXEnrichError } from '../contract/x-enrich-error.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { ClosedCircuit, cockatiel, createResiliencePolicies, halfOpenAfterOnClock, isTransient } from './policies.js';

const never = new AbortController().signal;
type Step = { outcome: 'ok' | 'transient' | 'definitive'; gapMs: number };
const failure = (outcome: Step['outcome']) =>
  outcome === 'transient' ? new UpstreamError('http', 'upstream answered 503', { status: 503 }) : new XEnrichError('X_PROVIDER_FAILED', 'provider bug');

/**
 * The policies run a closed circuit's calls without cockatiel's `execute` (`ClosedCircuit`);
 * these check that the breaker still decides exactly as cockatiel's own policy does.
 */
describe('the closed-circuit fast path', () => {
  it('is used with the installed cockatiel (its private fields are where ClosedCircuit expects them)', () => {
    const { circuitBreaker, handleAll, ConsecutiveBreaker } = cockatiel();
    expect(ClosedCircuit.of(circuitBreaker(handleAll, { halfOpenAfter: 10, breaker: new ConsecutiveBreaker(2) }), () => true)).toBeInstanceOf(ClosedCircuit);
    expect(ClosedCircuit.of({} as never, () => true)).toBeUndefined();
  });

  it('opens, half-opens and closes as a cockatiel circuit breaker run through its own execute (property)', async () => {
    const { circuitBreaker, handleWhen, CountBreaker, ConsecutiveBreaker, isBrokenCircuitError } = cockatiel();
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.record({ outcome: fc.constantFrom<Step['outcome']>('ok', 'transient', 'transient', 'definitive'), gapMs: fc.constantFrom(0, 1_000, 40_000) }), { maxLength: 60 }),
        async (consecutive, steps) => {
          const clock = createFakeClock();
          const settings = consecutive ? { consecutiveFailures: 3, halfOpenAfter: 30_000 } : { window: 8, minimumCalls: 4, threshold: 0.5, halfOpenAfter: 30_000 };
          const states: string[] = [];
          const policies = createResiliencePolicies(zResilienceConfig.parse({ retry: false, timeout: 0, bulkhead: false, circuitBreaker: settings }), { onCircuitStateChange: (s) => states.push(s) }, { clock });
          const reference = circuitBreaker(handleWhen(isTransient), {
            halfOpenAfter: halfOpenAfterOnClock(30_000, clock),
            breaker: consecutive ? new ConsecutiveBreaker(3) : new CountBreaker({ threshold: 0.5, size: 8, minimumNumberOfCalls: 4 }),
          });
          const referenceStates: string[] = [];
          reference.onStateChange((s) => referenceStates.push(['closed', 'open', 'half-open', 'isolated'][s] as string));
          const call = (outcome: Step['outcome']) => async () => {
            if (outcome === 'ok') return 'ok';
            throw failure(outcome);
          };
          const code = (error: unknown) => (isBrokenCircuitError(error) ? 'X_CIRCUIT_OPEN' : isXEnrichError(error) ? error.code : String(error));
          for (const step of steps) {
            await clock.advance(step.gapMs);
            const ours = await policies.execute(call(step.outcome), never).catch(code);
            const theirs = await reference.execute(call(step.outcome), never).catch(code);
            expect(ours).toBe(theirs);
          }
          expect(states).toEqual(referenceStates);
        },
      ),
      { numRuns: 200 },
    );
  });
});
