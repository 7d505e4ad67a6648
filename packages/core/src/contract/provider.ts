import type { DependencyContainer } from 'tsyringe';
import type { InjectionToken } from './tokens.js';
import type { Observable } from './observable-type.js';
import type { Logger } from './logger.js';
import type { Confidence, Entity, Reason, Verdict } from './result-record.js';
import type { ProviderManifestInput } from './manifest.js';

/**
 * The running attempt's timeout (`resilience.timeout`). Waiting for rate-limit budget is not the
 * upstream being slow, so a wait like that pauses it: without the pause, a 10 s timeout would
 * kill a lookup queued behind a 4-a-minute quota. Pauses nest; every `pause()` needs its `resume()`.
 */
export interface AttemptTimeout {
  pause(): void;
  resume(): void;
}

/**
 * What the engine hands a provider with each lookup (and each attempt of it). Pass it whole to
 * every request of core's upstream client (`upstream.get(path, context)`): the client takes the
 * signal, the logger and the attempt's timeout from it.
 */
export interface EnrichContext {
  /** Aborted when the caller gives up, the timeout fires, or the host shuts down. */
  readonly signal: AbortSignal;
  /** Logger bound to this instance and observable; secrets are redacted. */
  readonly logger: Logger;
  /**
   * This attempt's timeout. Core's upstream client pauses it while a request waits for budget;
   * a provider that waits for something else that is not the upstream may do the same. Absent
   * in contexts built by hand (tests, hosts calling a provider directly).
   */
  readonly attemptTimeout?: AttemptTimeout;
  /**
   * Set when the caller asked to see how the lookup was made (`x-enrich providers test`, a
   * host's `enrich(..., { trace })`): a provider may report each step (the request with secrets
   * redacted, the status, what it extracted, which rule decided). Absent otherwise: build
   * nothing for it then.
   */
  readonly trace?: (step: TraceStep) => void;
  /**
   * False while no lookup that could receive this call's outcome asked for the raw response
   * (`includeRaw`): the engine then drops `raw`, and core's upstream client leaves a request's
   * `unread` members out of the parsed body. Read it when the answer arrives, not before (a
   * lookup asking for raw may join the call meanwhile). Absent (contexts built by hand): treat
   * the raw response as wanted.
   */
  readonly rawWanted?: boolean;
}

/** One step of a traced lookup, as a provider reports it. `detail` is plain JSON data, with secrets redacted. */
export interface TraceStep {
  /** `request`, `response`, `field`, `rule`, `outcome` or a provider's own kind. */
  readonly kind: string;
  /** One line for people. */
  readonly summary: string;
  readonly detail?: Record<string, unknown>;
}

/**
 * What a provider returns for one observable. The engine turns it into a result record
 * (adding observable, provider, cache and timing fields).
 *
 * - `found`: the upstream knows the observable (status `ok`).
 * - `not_found`: the upstream has no data (status `not_found`, verdict `unknown`); cached for the not-found TTL.
 * - `pending`: the upstream queued it for analysis (status `pending`); never cached.
 *
 * Upstream failures are not outcomes: throw an `UpstreamError` (see errors) so the engine's
 * retry, circuit breaker and error reporting apply.
 */
export type ProviderOutcome =
  | {
      kind: 'found';
      verdict: Verdict;
      confidence: Confidence | null;
      reasons: Reason[];
      extracted: Record<string, unknown>;
      entities: Entity[];
      raw?: unknown;
    }
  | { kind: 'not_found'; reasons?: Reason[]; raw?: unknown }
  | { kind: 'pending'; reasons?: Reason[]; raw?: unknown };

/**
 * The implementation a plugin registers. Constructed once per provider instance in that
 * instance's child container; inject dependencies with `@inject(Tokens.X)` on every parameter.
 */
export interface EnrichmentProvider {
  enrich(observable: Observable, context: EnrichContext): Promise<ProviderOutcome>;
  /**
   * For APIs that accept several observables in one request. The engine groups pending lookups
   * (up to `manifest.batch.maxSize`) and calls this instead of `enrich`. Return one entry per
   * input, in input order; an `Error` entry fails only that observable.
   */
  enrichMany?(observables: readonly Observable[], context: EnrichContext): Promise<Array<ProviderOutcome | Error>>;
  /**
   * This instance's batch size, when it depends on its options (a private API key may allow
   * larger batches than the public one). The engine batches at most
   * `min(batchSize, manifest.batch.maxSize)`; without it, `manifest.batch.maxSize`.
   */
  readonly batchSize?: number;
  /** A cheap call that proves the credentials and upstream work. */
  healthCheck?(context: EnrichContext): Promise<{ ok: boolean; message?: string }>;
  /** Release sockets, timers. Called once when the host closes the enricher. */
  close?(): Promise<void>;
}

/**
 * A provider class. Its constructor's tokens come from a static `inject` list (one token per
 * parameter, the plain-JavaScript way) or from `@inject(Tokens.X)` on every parameter; core
 * constructs it itself, so it works whichever copy of tsyringe decorated it.
 */
export type ProviderConstructor = (new (...args: never[]) => EnrichmentProvider) & { readonly inject?: readonly InjectionToken[] };

/** What `register` receives: the instance's child container, already holding core's tokens. */
export interface ProviderRegistrar {
  /** The instance's child container (tokens: ProviderOptions, InstanceName, Manifest, Logger, Clock, HttpClient, RateLimiter). */
  readonly container: DependencyContainer;
  /** Register the implementation class under `Tokens.Provider`. */
  provider(implementation: ProviderConstructor): void;
}

/**
 * What one instance may say about itself, over the plugin's manifest, from its validated options:
 * a plugin whose API is described by its options (`@x/provider-http`) handles the types, rate
 * limits, cache TTLs and lifecycle its config names. `observableTypes` must be a subset of the
 * manifest's.
 */
export type InstanceManifest = Partial<Pick<ProviderManifestInput, 'displayName' | 'observableTypes' | 'defaultCacheTtlMs' | 'defaultNotFoundTtlMs' | 'defaultRateLimits' | 'lifecycle' | 'docsUrl'>>;

/** A provider plugin: the module's default export (or a named `plugin` export). */
export interface ProviderPlugin {
  readonly manifest: ProviderManifestInput;
  register(registrar: ProviderRegistrar): void;
  /** Per-instance manifest fields from the instance's validated options (see `InstanceManifest`). */
  instanceManifest?(options: Record<string, unknown>): InstanceManifest;
}

/** Identity helper that types a plugin definition. */
export function definePlugin(plugin: ProviderPlugin): ProviderPlugin {
  return plugin;
}
