import type { IncomingHttpHeaders } from 'node:http';
import { createSecretScrubber, type SecretScrubber } from '../contract/secret.js';
import { systemClock, type Clock } from '../contract/tokens.js';
import { UpstreamError, XEnrichError } from '../contract/x-enrich-error.js';
import type { Logger } from '../contract/logger.js';
import { silentLogger } from '../contract/logger.js';
import type { RateLimitGrant, RateLimiter } from '../contract/rate-limit-store.js';
import { abortWatchOf } from '../resilience/attempt-timeout.js';
import { CORE_VERSION } from '../version.js';
import { badBodyError, parseCommonError, parseRetryAfter, ruleFor, safeErrorBody, statusError, transportError, type RequestLabel } from './classify.js';
import { assertPlainName, parseJsonWithout } from './json-without.js';
import { baseUrlPrefix, encodePath, encodeQuery } from './request-url.js';
import { AxiosTransport, NodeTransport, proxyFromEnv, TransportFailure, type Exchange, type RawAnswer, type Transport } from './transport.js';
import type {
  HttpCallInfo,
  HttpClient,
  UpstreamCallContext,
  UpstreamClient,
  UpstreamDefinition,
  UpstreamErrorBody,
  UpstreamRequest,
  UpstreamRequestOptions,
  UpstreamResponse,
} from './upstream.js';

export interface HttpClientOptions {
  /** Every request waits for its `cost` in this limiter's budget before it is sent. */
  rateLimiter?: RateLimiter;
  /** Values that must never appear in errors or logs, besides each upstream's own auth secret. */
  secrets?: readonly string[];
  /** Receives one debug line per request (method, path without query, status, duration). */
  logger?: Logger;
  /**
   * Sockets per upstream host, kept alive between requests: size it to the number of requests
   * the instance sends at once (the engine passes the bulkhead's `maxConcurrent`, or the
   * enricher's concurrency without a bulkhead). Default 16.
   */
  maxSockets?: number;
  /** Reads `Retry-After` dates against this clock. */
  clock?: Clock;
  /** One call per request sent, for metrics (the engine's `http` event). */
  onCall?: (info: HttpCallInfo) => void;
}

/**
 * How many quota refusals of one request are fed back to the limiter before the refusal is
 * thrown: a key spent elsewhere (its day quota) must not hold a lookup forever.
 */
const REFUSALS_ABSORBED = 10;

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const USER_AGENT = `x-enrich/${CORE_VERSION}`;

/**
 * Core's HTTP client for one provider instance (the engine builds one and injects it under
 * `Tokens.HttpClient`; hosts and tests may build their own). `close()` closes its idle
 * keep-alive sockets. See `UpstreamClient` for what each request does.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient & { close(): void } {
  return new CoreHttpClient(options);
}

/** What every upstream of one instance shares: the limiter, the sockets, the logger, the metrics hook. */
class CoreHttpClient implements HttpClient {
  readonly limiter: RateLimiter | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly onCall: ((info: HttpCallInfo) => void) | undefined;
  private readonly secrets: readonly string[];
  private readonly maxSockets: number;
  private direct: Transport | undefined;
  private proxied: Transport | undefined;
  /** Whether the limiter has windows to feed a refusal to (asked once, on the first refusal). */
  private limited: Promise<boolean> | undefined;

  constructor(options: HttpClientOptions) {
    this.limiter = options.rateLimiter;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.onCall = options.onCall;
    this.secrets = options.secrets ?? [];
    this.maxSockets = Math.max(1, options.maxSockets ?? 16);
  }

  upstream(definition: UpstreamDefinition): UpstreamClient {
    const secrets = [...this.secrets, ...(definition.secrets ?? [])];
    if (definition.auth) secrets.push(definition.auth.secret);
    return new Upstream(this, definition, createSecretScrubber(secrets));
  }

  /**
   * The transport for one protocol, built on its first request (a run served from the cache
   * never sends one): node:http(s), or axios when the environment names a proxy (transport.ts).
   */
  transport(protocol: string): Transport {
    if (proxyFromEnv(protocol)) return (this.proxied ??= new AxiosTransport(this.maxSockets));
    return (this.direct ??= new NodeTransport(this.maxSockets));
  }

  absorbsRefusals(): Promise<boolean> {
    const limiter = this.limiter;
    if (!limiter) return Promise.resolve(false);
    // A limiter without windows grants at once: feeding it a refusal would resend at once.
    return (this.limited ??= limiter.remaining().then(
      (windows) => windows.length > 0,
      () => true,
    ));
  }

  close(): void {
    this.direct?.close();
    this.proxied?.close();
  }
}

/** What a 2xx (or a not-found answer) resolves with. */
class Answer implements UpstreamResponse {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly notFound: boolean,
    readonly error: UpstreamErrorBody | undefined,
    private readonly headers: IncomingHttpHeaders,
  ) {}

  header(name: string): string | undefined {
    const value: unknown = this.headers[name.toLowerCase()];
    if (value === undefined || value === null) return undefined;
    return Array.isArray(value) ? value.join(', ') : String(value);
  }
}

/** JSON text -> value, or undefined when it is not JSON (an error body need not be). */
function parseLoose(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const NO_BODY = Symbol('no JSON body');

/** One upstream API, as `HttpClient.upstream(definition)` returns it. Everything per request is in `request`. */
class Upstream implements UpstreamClient {
  private readonly name: string;
  private readonly prefix: string;
  /** The path of the base URL, for messages (`/api/v3`). */
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly authQuery: { name: string; value: string } | undefined;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  /** The base URL split for the transport: every request only appends its path. */
  private readonly target: { protocol: string; hostname: string; port: string };
  private transport: Transport | undefined;

  constructor(
    private readonly client: CoreHttpClient,
    private readonly definition: UpstreamDefinition,
    private readonly scrub: SecretScrubber,
  ) {
    const host = URL.canParse(definition.baseUrl) ? new URL(definition.baseUrl).host : 'upstream';
    this.name = definition.name ?? host;
    this.prefix = baseUrlPrefix(definition.baseUrl, this.name);
    const base = new URL(this.prefix);
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.target = { protocol: base.protocol, hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'), port: base.port };
    const auth = definition.auth;
    // Compressed answers are decoded by the transport (VirusTotal's JSON shrinks ~5x).
    this.headers = { accept: 'application/json', 'accept-encoding': 'gzip, deflate, br', 'user-agent': USER_AGENT, ...definition.headers };
    if (auth && 'header' in auth) this.headers[auth.header.toLowerCase()] = auth.scheme ? `${auth.scheme} ${auth.secret}` : auth.secret;
    this.authQuery = auth && 'query' in auth ? { name: auth.query, value: auth.secret } : undefined;
    this.timeoutMs = definition.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = definition.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  get(path: readonly string[], context: UpstreamCallContext, options?: UpstreamRequestOptions): Promise<UpstreamResponse> {
    return this.request({ ...options, method: 'GET', path }, context);
  }

  post(path: readonly string[], context: UpstreamCallContext, options?: UpstreamRequestOptions): Promise<UpstreamResponse> {
    return this.request({ ...options, method: 'POST', path }, context);
  }

  async request(request: UpstreamRequest, context: UpstreamCallContext): Promise<UpstreamResponse> {
    // Encoding refuses a dot-only segment before any budget is spent.
    const path = encodePath(request.path, request.trailingSlash);
    const query = encodeQuery(request.query, this.authQuery);
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const unread = request.unread !== undefined && request.unread.length > 0 ? request.unread : undefined;
    if (unread) for (const name of unread) assertPlainName(name);
    let headers = this.headers;
    let body: string | undefined;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers = { ...this.headers, ...request.headers, 'content-type': 'application/json' };
    } else if (request.form) {
      body = new URLSearchParams(request.form as Record<string, string>).toString();
      headers = { ...this.headers, ...request.headers, 'content-type': 'application/x-www-form-urlencoded' };
    } else if (request.headers) {
      headers = { ...this.headers, ...request.headers };
    }
    const fullPath = this.basePath + path || '/';
    // Fields written out rather than spread from `target` (the miss path); the abort followed
    // is the attempt's own when `context` is the one it made, so its signal is never created.
    const target = this.target;
    const exchange: Exchange = {
      method: request.method,
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      path: query === '' ? fullPath : `${fullPath}?${query}`,
      headers,
      body,
      signal: abortWatchOf(context),
      timeoutMs,
      maxBytes: this.maxResponseBytes,
    };
    const label: RequestLabel = { upstream: this.name, method: request.method, path: '' };
    const labelled = (): RequestLabel => {
      if (label.path === '') label.path = this.scrub(this.basePath + path) || '/';
      return label;
    };

    // A limiter without windows grants everything at once: not asked (nor told of the answer).
    const limiter = this.client.limiter?.unlimited ? undefined : this.client.limiter;
    const cost = request.cost ?? 1;
    const transport = (this.transport ??= this.client.transport(this.target.protocol));
    for (let refusals = 0; ; refusals++) {
      const grant = limiter ? await this.waitForBudget(limiter, cost, context) : undefined;
      const started = performance.now();
      let response: RawAnswer;
      try {
        response = await transport.send(exchange);
      } catch (error) {
        // A request that may have arrived counts as answered.
        if (grant) await settle(grant);
        const failure = error instanceof TransportFailure && error.code === 'X_TOO_LARGE' ? new UpstreamError('bad_response', `${labelled().upstream} ${request.method} ${labelled().path} answered more than ${this.maxResponseBytes} bytes (maxResponseBytes).`) : transportError(error, labelled(), context.signal, timeoutMs);
        throw this.failed(failure, labelled(), undefined, started);
      }
      const { status, text } = response;

      if (status >= 200 && status < 300 && this.definition.statuses?.[status] === undefined) {
        if (grant) await settle(grant);
        // Read now, as the answer arrives: a lookup asking for the raw response may have joined.
        const body = this.parseStrict(text, status, request.method, unread !== undefined && context.rawWanted === false ? unread : undefined);
        if (body === NO_BODY) throw this.failed(badBodyError(labelled(), status, text, this.scrub), labelled(), status, started);
        this.answered(labelled(), status, started);
        return new Answer(status, body, false, undefined, response.headers);
      }

      const parsed = parseLoose(text);
      const error = safeErrorBody(this.parseError(parsed), this.scrub);
      if (status >= 300 && this.isNotFound(status, error)) {
        if (grant) await settle(grant);
        this.answered(labelled(), status, started);
        return new Answer(status, parsed, true, error, response.headers);
      }
      const rule = ruleFor(this.definition.statuses, status) ?? { kind: 'http' as const };
      const retryAfterMs = parseRetryAfter(response.headers['retry-after'], this.client.clock.now());
      const failure = statusError(labelled(), status, rule, error, retryAfterMs);
      if (grant && rule.kind === 'quota' && refusals < REFUSALS_ABSORBED && (await this.client.absorbsRefusals())) {
        // Not an error for the provider: the limiter learns the window is full, and this request
        // waits for budget again in its turn, without spending a retry attempt.
        this.refused(failure, labelled(), status, started, refusals + 1);
        await this.withTimeoutPaused(context, () => grant.refused(retryAfterMs).catch(() => undefined));
        continue;
      }
      if (grant) await settle(grant);
      throw this.failed(failure, labelled(), status, started);
    }
  }

  private async waitForBudget(limiter: RateLimiter, cost: number, context: UpstreamCallContext): Promise<RateLimitGrant> {
    return this.withTimeoutPaused(context, () => limiter.acquire(cost, context.signal));
  }

  /** Waiting for budget is not the upstream being slow: the attempt's timeout stops meanwhile. */
  private async withTimeoutPaused<T>(context: UpstreamCallContext, wait: () => Promise<T>): Promise<T> {
    const timeout = context.attemptTimeout;
    if (!timeout) return wait();
    timeout.pause();
    try {
      return await wait();
    } finally {
      timeout.resume();
    }
  }

  /** The upstream's error body, when the answer has a JSON body the parser understands. */
  private parseError(parsed: unknown): UpstreamErrorBody | undefined {
    if (parsed === undefined) return undefined;
    try {
      return (this.definition.parseError ?? parseCommonError)(parsed);
    } catch {
      // A parser that trips over an unexpected body must not turn the status into a crash.
      return undefined;
    }
  }

  private isNotFound(status: number, error: UpstreamErrorBody | undefined): boolean {
    const rule = this.definition.notFound;
    if (!rule) return false;
    return typeof rule === 'function' ? rule({ status, error }) : rule.includes(status);
  }

  /** A 2xx body: JSON (without the `unread` members), or nothing for 204 and HEAD. `NO_BODY` when it is empty or not JSON. */
  private parseStrict(text: string, status: number, method: string, unread: readonly string[] | undefined): unknown {
    if (text === '') return status === 204 || method === 'HEAD' ? undefined : NO_BODY;
    try {
      return unread ? parseJsonWithout(text, unread) : (JSON.parse(text) as unknown);
    } catch {
      return NO_BODY;
    }
  }

  private answered(label: RequestLabel, status: number, started: number): void {
    const durationMs = performance.now() - started;
    this.client.logger.debug({ upstream: label.upstream, method: label.method, path: label.path, status, durationMs }, 'upstream request');
    this.client.onCall?.({ method: label.method, status, durationMs });
  }

  private refused(failure: XEnrichError, label: RequestLabel, status: number, started: number, refusals: number): void {
    const durationMs = performance.now() - started;
    this.client.logger.debug({ upstream: label.upstream, method: label.method, path: label.path, status, durationMs, refusals }, 'upstream refused the request for quota; waiting for budget again');
    this.client.onCall?.({ method: label.method, status, durationMs, errorCode: failure.code });
  }

  private failed(failure: XEnrichError, label: RequestLabel, status: number | undefined, started: number): XEnrichError {
    if (failure.code !== 'X_ABORTED') {
      const durationMs = performance.now() - started;
      this.client.logger.debug({ upstream: label.upstream, method: label.method, path: label.path, status, durationMs, code: failure.code }, 'upstream request failed');
      this.client.onCall?.({ method: label.method, status, durationMs, errorCode: failure.code });
    }
    return failure;
  }
}

/** Reports an answer to the limiter. Its own failure (a store gone) must not hide the request's outcome. */
async function settle(grant: RateLimitGrant): Promise<void> {
  await grant.settle().catch(() => undefined);
}
