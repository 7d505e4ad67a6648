import type { SecretScrubber } from '../../contract/secret.js';
import { XEnrichError, isXEnrichError } from '../../contract/x-enrich-error.js';
import type { Logger } from '../../contract/logger.js';
import type { EnrichContext, EnrichmentProvider, ProviderOutcome, TraceStep } from '../../contract/provider.js';
import type { AttemptContext } from '../../resilience/attempt-timeout.js';
import { outcomeProblem } from '../check-outcome.js';
import type { CallContext, CallResult, Emit, Stage } from './stage.js';

export interface CallStageOptions {
  instance: string;
  provider: EnrichmentProvider;
  logger: Logger;
  /** Removes the secrets from every error message. */
  scrub: SecretScrubber;
  emit: Emit;
  /**
   * Whether a lookup in progress may put the raw response into its record (`includeRaw`).
   * Default: always. When false the call stage drops `raw` from the outcome as soon as the
   * provider returns it (see `CallStage`).
   */
  keepsRaw?: () => boolean;
  /**
   * Set when nobody but the instance's stats listens (no `onEvent` hook): a successful call is
   * counted through it, without measuring its duration or building the `upstream` event.
   */
  countUpstream?: () => void;
}

/**
 * Any failure as an XEnrichError with secrets removed; a non-x-enrich error is a provider bug
 * (X_PROVIDER_FAILED). The instance uses it too, for whatever else ends a lookup.
 */
export function normalizeError(error: unknown, instance: string, scrub: SecretScrubber): XEnrichError {
  if (isXEnrichError(error)) {
    const message = scrub(error.message);
    return message === error.message ? error : new XEnrichError(error.code, message, { retryable: error.retryable, details: error.details });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new XEnrichError('X_PROVIDER_FAILED', `Provider "${instance}" failed unexpectedly: ${scrub(message)}`);
}

/**
 * The provider's context for one attempt. `signal` is an own, enumerable getter as an object
 * literal's `get signal()` was (a provider may spread the context: `{ ...context }` copies it),
 * but one getter shared by every context through one property descriptor: a literal's getter is
 * a new function and accessor per call, measured at ~1 µs per miss against ~0.2 µs for this.
 * The attempt and fallback are private fields, so the context shows no other keys than before;
 * `rawWanted` is a getter of the class, read live (see `EnrichContext.rawWanted`).
 */
let SIGNAL: PropertyDescriptor;
class ProviderContext {
  readonly #attempt: AttemptContext | undefined;
  readonly #fallback: AbortSignal;
  readonly #keepsRaw: () => boolean;
  declare readonly signal: AbortSignal;
  declare attemptTimeout?: AttemptContext;
  declare trace?: (step: TraceStep) => void;

  static {
    SIGNAL = {
      get(this: ProviderContext): AbortSignal {
        return this.#attempt ? this.#attempt.signal : this.#fallback;
      },
      enumerable: true,
      configurable: true,
    };
  }

  constructor(
    readonly logger: Logger,
    attempt: AttemptContext | undefined,
    fallback: AbortSignal,
    keepsRaw: () => boolean,
  ) {
    Object.defineProperty(this, 'signal', SIGNAL);
    this.#attempt = attempt;
    this.#fallback = fallback;
    this.#keepsRaw = keepsRaw;
  }

  get rawWanted(): boolean {
    return this.#keepsRaw();
  }
}

const ALWAYS = (): boolean => true;

/**
 * The provider's context for one attempt; `signal` is read through, so the attempt creates its
 * AbortController only if the provider uses it. The attempt is the context's timeout handle: the
 * upstream client pauses it while a request waits for budget. (The upstream client may change
 * what it holds.)
 */
export function contextFor(attempt: AttemptContext | undefined, logger: Logger, fallback: AbortSignal, trace?: (step: TraceStep) => void, keepsRaw: () => boolean = ALWAYS): EnrichContext {
  const context = new ProviderContext(logger, attempt, fallback, keepsRaw);
  // Assigned only when present: a provider tells "no timeout handle" by its absence.
  if (attempt) context.attemptTimeout = attempt;
  attempt?.adopt?.(context); // core's upstream client then follows the attempt's abort without making its signal
  if (trace) context.trace = trace;
  return context;
}

/**
 * The call stage, the end of the chain: one call into the provider (`enrich`, or `enrichMany`
 * for a batch), its outcomes checked against the result format, and every failure normalized
 * (so retry sees x-enrich errors, and secrets never leave). Emits one `upstream` event per call.
 */
export class CallStage implements Stage<CallContext, CallResult> {
  private readonly enrichMany: EnrichmentProvider['enrichMany'];
  private readonly keepsRaw: () => boolean;

  constructor(private readonly options: CallStageOptions) {
    this.enrichMany = options.provider.enrichMany?.bind(options.provider);
    this.keepsRaw = options.keepsRaw ?? ALWAYS;
  }

  /**
   * `callOne`'s handlers when calls are only counted (`countUpstream`): they need no start time
   * (it is 0 then), so they are made once here rather than as two closures per call.
   */
  private readonly answeredCounted = (answered: ProviderOutcome): CallResult => this.answered(answered, 0);
  private readonly failedCounted = (error: unknown): never => {
    throw this.failed(error, 1, 0);
  };

  execute(context: CallContext): Promise<CallResult> {
    return context.batch ? this.callMany(context) : this.callOne(context);
  }

  /** One observable through `enrich` (the common miss path): a promise chain, no async function around it. */
  private callOne(context: CallContext): Promise<CallResult> {
    const count = this.options.countUpstream;
    const started = count ? 0 : performance.now();
    let calling: Promise<ProviderOutcome>;
    try {
      calling = this.options.provider.enrich(context.observables[0] as CallContext['observables'][number], contextFor(context.attempt, this.options.logger, context.signal, context.trace, this.keepsRaw));
    } catch (error) {
      return Promise.reject(this.failed(error, 1, started));
    }
    // `Promise.resolve`: a provider may return a thenable, or a value despite its type.
    if (count) return Promise.resolve(calling).then(this.answeredCounted, this.failedCounted);
    return Promise.resolve(calling).then(
      (answered) => this.answered(answered, started),
      (error: unknown) => {
        throw this.failed(error, 1, started);
      },
    );
  }

  /** A single call's answer: checked, `raw` dropped unless kept, the call counted or reported. */
  private answered(answered: ProviderOutcome, started: number): CallResult {
    let outcome: ProviderOutcome;
    try {
      outcome = this.checked(answered);
      if (outcome.raw !== undefined && !this.keepsRaw()) outcome = withoutRaw(outcome);
    } catch (error) {
      throw this.failed(error, 1, started);
    }
    const count = this.options.countUpstream;
    if (count) count();
    else this.options.emit({ type: 'upstream', instance: this.options.instance, durationMs: performance.now() - started, ok: true, batchSize: 1 });
    return [outcome];
  }

  private async callMany(context: CallContext): Promise<CallResult> {
    const { observables } = context;
    const started = performance.now();
    let results: CallResult;
    try {
      const answered = await (this.enrichMany as NonNullable<EnrichmentProvider['enrichMany']>)(observables, contextFor(context.attempt, this.options.logger, context.signal, undefined, this.keepsRaw));
      if (!Array.isArray(answered) || answered.length !== observables.length) {
        throw new XEnrichError('X_PROVIDER_FAILED', `Provider "${this.options.instance}" returned ${Array.isArray(answered) ? answered.length : 'no'} results for a batch of ${observables.length}.`);
      }
      const keepsRaw = this.keepsRaw();
      results = answered.map((result) => (result instanceof Error ? this.normalize(result) : keepsRaw || result.raw === undefined ? this.checked(result) : withoutRaw(this.checked(result))));
    } catch (error) {
      throw this.failed(error, observables.length, started);
    }
    this.options.emit({ type: 'upstream', instance: this.options.instance, durationMs: performance.now() - started, ok: true, batchSize: observables.length });
    return results;
  }

  private checked(outcome: ProviderOutcome): ProviderOutcome {
    const problem = outcomeProblem(outcome);
    if (problem) throw new XEnrichError('X_PROVIDER_FAILED', `Provider "${this.options.instance}" returned an invalid outcome: ${problem}.`);
    return outcome;
  }

  private normalize(error: unknown): XEnrichError {
    return normalizeError(error, this.options.instance, this.options.scrub);
  }

  /** The failure of a call, normalized and reported. */
  private failed(error: unknown, batchSize: number, started: number): XEnrichError {
    const normalized = this.normalize(error);
    const httpStatus = normalized.details.status;
    this.options.emit({
      type: 'upstream',
      instance: this.options.instance,
      durationMs: performance.now() - started,
      ok: false,
      batchSize,
      errorCode: normalized.code,
      ...(typeof httpStatus === 'number' ? { httpStatus } : {}),
    });
    return normalized;
  }
}

/**
 * The outcome without its raw response (a copy: the provider's object is left as it was). Up the
 * chain nobody reads `raw` unless a lookup asked for it (the cache never stores it), and carried
 * on it costs far more than its size: the misses bench showed the parsed 12 KB VirusTotal bodies
 * promoted to the old generation through the chain's promises, doubling the bytes that survive
 * a scavenge and the GC time per miss (docs/performance.md, "Misses, third round").
 */
function withoutRaw(outcome: ProviderOutcome): ProviderOutcome {
  const { raw: _raw, ...rest } = outcome;
  return rest as ProviderOutcome;
}
