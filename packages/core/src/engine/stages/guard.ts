import type { IBackoff, IBackoffFactory, IRetryBackoffContext } from 'cockatiel';
import type { ResilienceConfig } from '../../config/config-schema.js';
import type { Clock } from '../../contract/tokens.js';
import { isXEnrichError } from '../../contract/x-enrich-error.js';
import type { Logger } from '../../contract/logger.js';
import type { AttemptContext } from '../../resilience/attempt-timeout.js';
import { cockatiel, createResiliencePolicies, isTransient, retryAfterBackoff, type CircuitStateName, type ResiliencePolicies } from '../../resilience/policies.js';
import type { RateLimiter } from '../../contract/rate-limit-store.js';
import type { CallContext, CallResult, Emit, Next, Stage } from './stage.js';

type Backoff = IBackoff<IRetryBackoffContext<unknown>>;

export interface GuardStageOptions {
  instance: string;
  resilience: ResilienceConfig;
  clock: Clock;
  logger: Logger;
  emit: Emit;
  /** False when the instance has no rate limit, so nothing will pause an attempt's timeout. */
  pausableTimeout: boolean;
}

/**
 * The guard stage: every call runs under the instance's resilience policies
 * (`createResiliencePolicies(...).execute`: auth latch, circuit breaker, bulkhead, per-attempt timeout), and
 * transient failures are retried here with exponential backoff that honours Retry-After, the
 * delay waited on the injected clock (so a test moves it with a fake clock instead of sleeping).
 * What it reports: retry, circuit, timeout and bulkhead_rejected events.
 */
export class GuardStage implements Stage<CallContext, CallResult> {
  private built: ResiliencePolicies | undefined;
  private retryBackoff: IBackoffFactory<IRetryBackoffContext<unknown>> | undefined;
  private readonly maxAttempts: number;

  constructor(private readonly options: GuardStageOptions) {
    const retry = options.resilience.retry;
    this.maxAttempts = retry === false ? 0 : retry.maxAttempts;
  }

  /**
   * The policies, built on the first upstream call: a run whose lookups are all cached never
   * needs them, nor cockatiel (issue 16). Until then the circuit is as a new breaker's: closed.
   */
  private get policies(): ResiliencePolicies {
    return (this.built ??= this.buildPolicies());
  }

  /** The retry backoff (exponential with jitter, honouring Retry-After), built on the first retry. */
  private get backoff(): IBackoffFactory<IRetryBackoffContext<unknown>> | undefined {
    const retry = this.options.resilience.retry;
    if (retry === false) return undefined;
    return (this.retryBackoff ??= retryAfterBackoff(new (cockatiel().ExponentialBackoff)({ initialDelay: retry.initialDelay, maxDelay: retry.maxDelay }), retry.maxDelay));
  }

  private buildPolicies(): ResiliencePolicies {
    const { instance, resilience, logger, emit } = this.options;
    // Retry is ours (on the clock); the policies keep the circuit breaker, bulkhead and timeout.
    return createResiliencePolicies({ ...resilience, retry: false }, {
      onCircuitStateChange: (state) => {
        (state === 'open' ? logger.warn : logger.info).call(logger, { circuitState: state }, `circuit ${state}`);
        emit({ type: 'circuit', instance, state });
      },
      onTimeout: () => {
        logger.debug({ timeoutMs: resilience.timeout }, 'attempt timed out');
        emit({ type: 'timeout', instance });
      },
      onBulkheadRejected: () => {
        logger.warn({}, 'bulkhead full');
        emit({ type: 'bulkhead_rejected', instance });
      },
      onAuthLatch: (state) =>
        state === 'latched'
          ? logger.error({ code: 'X_UPSTREAM_AUTH' }, 'the upstream refused the credentials (401/403): no more calls for this instance until a probe succeeds (CLI: for this run)')
          : logger.info({}, 'the upstream accepted the credentials again: calls resume'),
    }, { pausableTimeout: this.options.pausableTimeout, clock: this.options.clock });
  }

  get circuitState(): CircuitStateName {
    if (this.built) return this.built.circuitState;
    return this.options.resilience.circuitBreaker === false ? 'disabled' : 'closed';
  }

  execute(context: CallContext, next: Next<CallContext, CallResult>): Promise<CallResult> {
    const { observables, batch, signal, trace } = context;
    const run = (attempt: AttemptContext): Promise<CallResult> => next({ observables, batch, signal, attempt, trace });
    return this.attempt(run, signal, 0, undefined);
  }

  /** One attempt under the policies; a transient failure waits its backoff on the clock and tries again. */
  private attempt(run: (attempt: AttemptContext) => Promise<CallResult>, signal: AbortSignal, retries: number, previous: Backoff | undefined): Promise<CallResult> {
    // A `.catch` rather than try/await: no extra promise on the path that succeeds first time.
    return this.policies.execute(run, signal).catch((error: unknown) => {
      if (signal.aborted || retries >= this.maxAttempts || !isTransient(error) || !this.backoff) throw error;
      const attempt = retries + 1;
      const backoffContext: IRetryBackoffContext<unknown> = { attempt, signal, result: { error: error as Error } };
      const backoff = previous ? previous.next(backoffContext) : this.backoff.next(backoffContext);
      const delayMs = backoff.duration;
      const errorCode = isXEnrichError(error) ? error.code : undefined;
      this.options.logger.warn({ attempt, delayMs, code: errorCode }, 'retrying upstream call');
      this.options.emit({ type: 'retry', instance: this.options.instance, attempt, delayMs, errorCode });
      return this.options.clock.sleep(delayMs, signal).then(() => this.attempt(run, signal, attempt, backoff));
    });
  }
}

/**
 * The instance's rate limiter as providers receive it: every wait for budget is reported,
 * `quota_wait` start and end for the stats, `rate_limit_wait` with its length on the clock.
 * (The upstream client pauses the attempt's timeout meanwhile, through the provider's context.)
 */
export function guardLimiter(base: RateLimiter, options: { instance: string; clock: Clock; emit: Emit }): RateLimiter {
  const { instance, clock, emit } = options;
  return {
    ...(base.unlimited ? { unlimited: true } : {}),
    get waitedMs() {
      return base.waitedMs;
    },
    remaining: () => base.remaining(),
    ...(base.snapshot ? { snapshot: base.snapshot.bind(base) } : {}),
    ...(base.refresh ? { refresh: base.refresh.bind(base) } : {}),
    acquire: async (cost, signal) => {
      const waitedBefore = base.waitedMs;
      const before = clock.now();
      emit({ type: 'quota_wait', instance, phase: 'start', at: before });
      try {
        return await base.acquire(cost, signal);
      } finally {
        const after = clock.now();
        emit({ type: 'quota_wait', instance, phase: 'end', at: after });
        const waitedMs = after - before;
        if (waitedMs > 0 && base.waitedMs > waitedBefore) emit({ type: 'rate_limit_wait', instance, waitedMs });
      }
    },
  };
}
