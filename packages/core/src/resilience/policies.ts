import { createRequire } from 'node:module';
import type * as Cockatiel from 'cockatiel';
import type {
  CircuitBreakerPolicy,
  CircuitState,
  IBackoff,
  IBackoffFactory,
  IHalfOpenAfterBackoffContext,
  RetryPolicy,
  IRetryBackoffContext,
} from 'cockatiel';
import type { ResilienceConfig } from '../config/config-schema.js';
import { XEnrichError, isUpstreamError, isXEnrichError } from '../contract/x-enrich-error.js';
import { abortError } from '../contract/sleep.js';
import { systemClock, type Clock } from '../contract/tokens.js';
import { DeadlineWheel, NEVER_ABORTED, runAttempt, type AttemptContext } from './attempt-timeout.js';
import { createAuthLatch } from './auth-latch.js';
import { Bulkhead } from './bulkhead.js';

// cockatiel is CommonJS. `require` rather than `import` because Node 20 lexes every file of a
// CommonJS package that ESM imports (cockatiel re-exports ~20 files), which made importing it
// cost ~55 ms of each CLI start instead of ~15 ms (median of 11, node start excluded). Required on
// first use, not at import: a run whose lookups are all cached never builds a policy (the guard
// stage builds its policies on the first upstream call), so it never loads cockatiel (issue 16).
let cockatielModule: typeof Cockatiel | undefined;
/** cockatiel, required on first use (shared with the guard stage). */
export function cockatiel(): typeof Cockatiel {
  return (cockatielModule ??= createRequire(import.meta.url)('cockatiel') as typeof Cockatiel);
}

/** Circuit states as reported by `providers()` and `stats()`. */
export type CircuitStateName = 'closed' | 'open' | 'half-open' | 'isolated' | 'disabled';

let stateNames: Record<CircuitState, CircuitStateName> | undefined;
function stateName(state: CircuitState): CircuitStateName {
  if (stateNames === undefined) {
    const { CircuitState: Circuit } = cockatiel();
    stateNames = { [Circuit.Closed]: 'closed', [Circuit.Open]: 'open', [Circuit.HalfOpen]: 'half-open', [Circuit.Isolated]: 'isolated' };
  }
  return stateNames[state];
}

/** Codes that are never worth retrying even though "later" might work: the run's own limits. */
const NOT_RETRIED = new Set(['X_RATE_LIMIT_EXHAUSTED', 'X_ABORTED', 'X_CIRCUIT_OPEN', 'X_BULKHEAD_FULL']);

/** Transient upstream failures: network, timeouts, 5xx, 429. Never 400/401/403/404 or provider bugs. */
export function isTransient(error: unknown): boolean {
  return isXEnrichError(error) && error.retryable && !NOT_RETRIED.has(error.code);
}

/** What counts against the circuit: the upstream being unhealthy (not quota, which is our budget). */
function isBreakerFailure(error: unknown): boolean {
  return isTransient(error) && !(isUpstreamError(error) && error.kind === 'quota');
}

/**
 * Exponential backoff with jitter that honours an upstream's Retry-After: the delay is the
 * larger of the two, capped by `maxDelay`. Also used by the engine's guard stage, which waits
 * out retry delays on the injected clock.
 */
export function retryAfterBackoff(inner: IBackoffFactory<IRetryBackoffContext<unknown>>, maxDelay: number): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const wrapBackoff = (backoff: IBackoff<IRetryBackoffContext<unknown>>, context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> => {
    const error = 'error' in context.result ? context.result.error : undefined;
    const asked = isUpstreamError(error) ? error.retryAfterMs : undefined;
    const duration = asked === undefined ? backoff.duration : Math.min(Math.max(asked, backoff.duration), maxDelay);
    return { duration, next: (next) => wrapBackoff(backoff.next(next), next) };
  };
  return { next: (context) => wrapBackoff(inner.next(context), context) };
}

/**
 * The breaker's half-open delay on the injected clock. cockatiel's breaker takes no clock: while
 * open it checks `Date.now() - openedAt < backoff.duration`. But it takes the delay as a backoff
 * whose `duration` it reads at every call, so this backoff answers from the clock instead: +Infinity
 * (stay open) until `halfOpenAfter` of the clock's time has passed since the breaker opened, then
 * -Infinity (let one probe through). cockatiel keeps the breaking decision and the probe; a fake
 * clock moves the wait like every other wait in core.
 */
export function halfOpenAfterOnClock(halfOpenAfter: number, clock: Clock): IBackoffFactory<IHalfOpenAfterBackoffContext> {
  // cockatiel asks for a backoff each time the breaker opens (`next`), just before it notes `openedAt`.
  const opened = (): IBackoff<IHalfOpenAfterBackoffContext> => {
    const openedAt = clock.now();
    return {
      get duration() {
        return clock.now() - openedAt < halfOpenAfter ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      },
      next: opened,
    };
  };
  return { next: opened };
}

export interface PolicyHooks {
  onRetry?(info: { attempt: number; delayMs: number; error: unknown }): void;
  onCircuitStateChange?(state: CircuitStateName): void;
  onTimeout?(): void;
  onBulkheadRejected?(): void;
  /** A 401/403 stopped this instance's calls (`latched`), or a probe call succeeded (`released`). */
  onAuthLatch?(state: 'latched' | 'released'): void;
}

export interface PolicyOptions {
  pausableTimeout?: boolean;
  /**
   * The clock of the attempt timeout, the breaker's half-open delay and the auth latch's probe
   * delay (`resilience.authProbeAfter`); default the system clock. A test passes
   * `createFakeClock()` and moves them all with `advance`.
   */
  clock?: Clock;
}

/** The composed per-instance policies: auth latch( retry( circuit breaker( bulkhead( timeout( call ))))). */
export interface ResiliencePolicies {
  /**
   * Runs `fn` under the policies; `attempt.signal` aborts on timeout or when `signal` aborts. Rejects with XEnrichErrors only: X_CIRCUIT_OPEN,
   * X_BULKHEAD_FULL, X_TIMEOUT, X_ABORTED, X_UPSTREAM_AUTH (fast, after an earlier 401/403), or what `fn` threw.
   */
  execute<T>(fn: (attempt: AttemptContext) => Promise<T>, signal: AbortSignal): Promise<T>;
  readonly circuitState: CircuitStateName;
}

/**
 * Builds an instance's policies from `config.resilience` with cockatiel: retry with
 * exponential backoff (decorrelated jitter) for transient failures only, honouring
 * Retry-After up to `maxDelay`; a sampling or consecutive-failure circuit breaker with a
 * half-open probe; a bulkhead; and a per-attempt cooperative timeout (see `runAttempt`).
 * Outside them all an auth latch: after a definitive 401/403 every further call fails fast with
 * the same X_UPSTREAM_AUTH, without reaching the upstream, until a probe (`authProbeAfter`).
 *
 * The breaker is count-based by default (the last `window` calls, at least `minimumCalls`), so
 * it opens on sustained failure whatever the request rate; `consecutiveFailures` or
 * `minimumRps` (rate-based) select the others.
 *
 * The attempt timeout, the half-open delay and the auth probe run on `options.clock`. Two waits
 * stay on cockatiel's own real time, which it gives no clock for: the retry delays of `config.retry`
 * here (the engine passes `retry: false` and waits its retries on the clock, in the guard stage)
 * and the sampling window of the opt-in rate-based breaker.
 */
export function createResiliencePolicies(config: ResilienceConfig, hooks: PolicyHooks = {}, options: PolicyOptions = {}): ResiliencePolicies {
  const { BulkheadRejectedError, ConsecutiveBreaker, CountBreaker, ExponentialBackoff, SamplingBreaker, circuitBreaker, handleWhen, retry } = cockatiel();
  const pausable = options.pausableTimeout ?? true;
  const clock = options.clock ?? systemClock;
  const latch = createAuthLatch(config.authProbeAfter ?? false, clock, hooks.onAuthLatch);
  let retryPolicy: RetryPolicy | undefined;
  let breaker: CircuitBreakerPolicy | undefined;
  let bulkheadPolicy: Bulkhead | undefined;

  if (config.retry !== false && config.retry.maxAttempts > 0) {
    const { maxAttempts, initialDelay, maxDelay } = config.retry;
    const policy = retry(handleWhen(isTransient), {
      maxAttempts,
      backoff: retryAfterBackoff(new ExponentialBackoff({ initialDelay, maxDelay }), maxDelay),
    });
    policy.onRetry((event) => hooks.onRetry?.({ attempt: event.attempt, delayMs: event.delay, error: 'error' in event ? event.error : undefined }));
    retryPolicy = policy;
  }
  if (config.circuitBreaker !== false) {
    const c = config.circuitBreaker;
    breaker = circuitBreaker(handleWhen(isBreakerFailure), {
      halfOpenAfter: halfOpenAfterOnClock(c.halfOpenAfter, clock),
      breaker: c.consecutiveFailures
        ? new ConsecutiveBreaker(c.consecutiveFailures)
        : c.minimumRps
          ? new SamplingBreaker({ threshold: c.threshold, duration: c.samplingDuration, minimumRps: c.minimumRps })
          : new CountBreaker({ threshold: c.threshold, size: c.window, minimumNumberOfCalls: Math.min(c.minimumCalls, c.window) }),
    });
    breaker.onStateChange((state) => hooks.onCircuitStateChange?.(stateName(state)));
  }
  if (config.bulkhead !== false) {
    const { maxConcurrent, maxQueue } = config.bulkhead;
    // Ours rather than cockatiel's (bulkhead.ts: its queue path was the largest allocation of a miss).
    bulkheadPolicy = new Bulkhead(maxConcurrent, maxQueue, {
      rejected: () => new BulkheadRejectedError(maxConcurrent, maxQueue),
      // X_ABORTED with the waiter's own abort reason as its cause, as every other layer answers an abort.
      cancelled: abortError,
      onReject: () => hooks.onBulkheadRejected?.(),
    });
  }
  const wheel = config.timeout > 0 ? new DeadlineWheel(config.timeout, clock) : undefined;
  const onTimeout = hooks.onTimeout;

  // The per-call layers take the caller's `fn` as an argument (`task(fn, signal)`) rather than
  // as closures made per call; every layer passes the caller's signal on unchanged, as
  // cockatiel's `wrap` did.
  function attempt<T>(fn: (attempt: AttemptContext) => Promise<T>, signal: AbortSignal): Promise<T> {
    return runAttempt(wheel, signal, fn, onTimeout, pausable);
  }
  function guarded<T>(fn: (attempt: AttemptContext) => Promise<T>, signal: AbortSignal): Promise<T> {
    return bulkheadPolicy ? bulkheadPolicy.call(attempt, fn, signal) : attempt(fn, signal);
  }

  // retry( breaker( bulkhead( attempt ))) nested by hand rather than with cockatiel's `wrap`,
  // whose per-call context spreads and closures were a visible part of a lookup's cost.
  function run<T>(fn: (attempt: AttemptContext) => Promise<T>, signal: AbortSignal): Promise<T> {
    const broken = breaker ? ({ signal: s }: { signal: AbortSignal }): Promise<T> => (breaker as CircuitBreakerPolicy).execute(({ signal: g }) => guarded(fn, g), s) : ({ signal: s }: { signal: AbortSignal }) => guarded(fn, s);
    return retryPolicy ? retryPolicy.execute(broken, signal) : broken({ signal });
  }

  // The common case, a closed breaker and no cockatiel retry (the engine's guard retries), runs
  // without cockatiel's async `execute`/`invoke` (two async frames, a `{ signal }` and a result
  // object per call): the call runs straight under the bulkhead and its outcome is told to the
  // breaker as cockatiel's closed state does (see `ClosedCircuit`). Any other state goes through
  // `breaker.execute` unchanged.
  const closed = breaker && !retryPolicy ? ClosedCircuit.of(breaker, isBreakerFailure) : undefined;
  const succeeded = (value: unknown): unknown => {
    latch.succeeded();
    return value;
  };
  const succeededClosed = (value: unknown): unknown => {
    (closed as ClosedCircuit).success();
    latch.succeeded();
    return value;
  };
  // Made once, not per call with the call's signal: the breaker opened here passes the signal only
  // to the half-open backoff, `halfOpenAfterOnClock`, which reads none, and policyError reads it
  // only for a cockatiel TaskCancelledError, which nothing under a closed circuit makes (the
  // bulkhead and the attempt reject an abort with X_ABORTED themselves).
  const failedClosed = (error: unknown): never => {
    (closed as ClosedCircuit).failure(error, NEVER_ABORTED);
    latch.failed(error);
    throw policyError(error, NEVER_ABORTED);
  };

  return {
    get circuitState() {
      return breaker ? stateName(breaker.state) : 'disabled';
    },
    execute<T>(fn: (attempt: AttemptContext) => Promise<T>, signal: AbortSignal): Promise<T> {
      const admitted = latch.admit();
      if (admitted !== true) return Promise.reject(admitted);
      // One handler pair for the breaker's bookkeeping, the auth latch and the error mapping
      // (they ran in this order before, as three chained promises).
      const fast = closed !== undefined && closed.isClosed();
      let running: Promise<T>;
      try {
        running = fast ? guarded(fn, signal) : run(fn, signal);
        // cockatiel's `execute` awaited whatever `fn` returned; a value or thenable becomes a promise here.
        if (!(running instanceof Promise)) running = Promise.resolve(running);
      } catch (error) {
        running = Promise.reject(error);
      }
      if (fast) return running.then(succeededClosed as (value: T) => T, failedClosed);
      return running.then(succeeded as (value: T) => T, (error: unknown) => {
        latch.failed(error);
        throw policyError(error, signal);
      });
    },
  };
}

/**
 * cockatiel's closed-circuit step without its async frames. `CircuitBreakerPolicy.execute` in
 * the closed state (cockatiel 3.2.1) does: invoke the call; on success `breaker.success(Closed)`;
 * on an error its filter handles, note it as the last failure and, if `breaker.failure(Closed)`
 * says so, open the circuit; an error the filter does not handle is passed on untouched. This does
 * the same through the policy's own fields (`innerState`, `options.breaker`, `innerLastFailure`,
 * `open`), which cockatiel's types mark private: `of` checks they are there and returns
 * undefined otherwise (another cockatiel version), and the policies then use `execute` for every call.
 */
export class ClosedCircuit {
  private constructor(
    private readonly policy: BreakerInternals,
    private readonly handles: (error: unknown) => boolean,
    private readonly closedState: CircuitState,
  ) {}

  static of(breaker: CircuitBreakerPolicy, handles: (error: unknown) => boolean): ClosedCircuit | undefined {
    const policy = breaker as unknown as Partial<BreakerInternals>;
    const ok =
      typeof policy.innerState === 'object' &&
      policy.innerState !== null &&
      typeof policy.options?.breaker?.success === 'function' &&
      typeof policy.options.breaker.failure === 'function' &&
      typeof policy.open === 'function' &&
      'lastFailure' in policy;
    return ok ? new ClosedCircuit(policy as BreakerInternals, handles, cockatiel().CircuitState.Closed) : undefined;
  }

  isClosed(): boolean {
    return this.policy.innerState.value === this.closedState;
  }

  success(): void {
    this.policy.options.breaker.success(this.closedState);
  }

  failure(error: unknown, signal: AbortSignal): void {
    if (!this.handles(error)) return;
    const result = { error: error as Error };
    this.policy.innerLastFailure = result;
    if (this.policy.options.breaker.failure(this.closedState)) this.policy.open(result, signal);
  }
}

interface BreakerInternals {
  innerState: { value: CircuitState };
  innerLastFailure: { error: Error } | undefined;
  options: { breaker: { success(state: CircuitState): void; failure(state: CircuitState): boolean } };
  open(reason: { error: Error }, signal: AbortSignal): void;
}

/** What a policy rejected with, as an XEnrichError (cockatiel's errors get our codes). */
function policyError(error: unknown, signal: AbortSignal): unknown {
  if (isXEnrichError(error)) return error;
  const { BulkheadRejectedError, TaskCancelledError, isBrokenCircuitError, isBulkheadRejectedError } = cockatiel();
  if (isBrokenCircuitError(error)) {
    return new XEnrichError('X_CIRCUIT_OPEN', 'The circuit breaker is open after repeated upstream failures; lookups fail fast until a half-open probe succeeds.', { retryable: true });
  }
  if (isBulkheadRejectedError(error) || error instanceof BulkheadRejectedError) {
    return new XEnrichError('X_BULKHEAD_FULL', 'Too many lookups are in flight or queued for this provider (resilience.bulkhead).', { retryable: true });
  }
  // `instanceof`, not cockatiel's `isTaskCancelledError`: in 3.2.1 that tests for a bulkhead
  // rejection, so a breaker's cancelled half-open waiter went out raw ("Operation cancelled").
  if (error instanceof TaskCancelledError) return abortError(signal);
  return error;
}
