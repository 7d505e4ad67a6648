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
import { AxiosTransport, headerListOf, NodeTransport, proxyFromEnv, TransportFailure, type Exchange, type RawAnswer, type Transport } from './transport.js';
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

/** One request of an upstream: what it sends and what its messages name. */
interface Call {
  readonly method: string;
  /** The encoded path below the base URL, without the query (which may carry a secret). */
  readonly path: string;
  readonly unread: readonly string[] | undefined;
  readonly context: UpstreamCallContext;
  readonly exchange: Exchange;
  label: RequestLabel | undefined;
}

/** An answer that is a failure, before it is reported: a quota refusal may be waited out instead. */
interface StatusFailure {
  readonly failure: UpstreamError;
  readonly quota: boolean;
  readonly retryAfterMs: number | undefined;
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
  /** `headers` with `Host`, as node:http's flat list, for requests without a body or headers of their own. */
  private readonly headerList: readonly string[] | undefined;
  private readonly authQuery: { name: string; value: string } | undefined;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  /** The base URL split for the transport: every request only appends its path. */
  private readonly target: { protocol: string; hostname: string; port: string };
  private sender: Transport | undefined;

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
    this.headerList = headerListOf(this.headers, this.target.hostname, this.target.port);
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

  request(request: UpstreamRequest, context: UpstreamCallContext): Promise<UpstreamResponse> {
    let call: Call;
    try {
      call = this.prepare(request, context);
    } catch (error) {
      return Promise.reject(error);
    }
    // A limiter without windows grants everything at once: not asked (nor told of the answer).
    const limiter = this.client.limiter?.unlimited ? undefined : this.client.limiter;
    if (limiter) return this.requestLimited(call, limiter, request.cost ?? 1);
    // Without a limiter there is one send and no refusal to wait out: a promise chain instead of
    // an async function, whose suspended frame (every local of this path) stayed alive for the
    // whole round trip; in the misses bench it was the largest object of a request in flight.
    const started = performance.now();
    return this.transport().send(call.exchange).then(
      (response) => {
        const answer = this.answerOf(call, response, started);
        if (answer instanceof Answer) {
          this.answered(this.labelled(call), answer.status, started);
          return answer;
        }
        throw this.failed(answer.failure, this.labelled(call), response.status, started);
      },
      (error: unknown) => {
        throw this.sendFailed(call, error, started);
      },
    );
  }

  /** What one request sends, built once for all its sends. Throws on a path or name it refuses. */
  private prepare(request: UpstreamRequest, context: UpstreamCallContext): Call {
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
      headerList: headers === this.headers && body === undefined ? this.headerList : undefined,
      body,
      signal: abortWatchOf(context),
      timeoutMs,
      maxBytes: this.maxResponseBytes,
    };
    return { method: request.method, path, unread, context, exchange, label: undefined };
  }

  /** The client's transport for this upstream's protocol, asked for on the first request. */
  private transport(): Transport {
    return (this.sender ??= this.client.transport(this.target.protocol));
  }

  /** The request's label for messages and logs, its path scrubbed (built on first use: a 2xx logs nothing but at debug level). */
  private labelled(call: Call): RequestLabel {
    return (call.label ??= { upstream: this.name, method: call.method, path: this.scrub(this.basePath + call.path) || '/' });
  }

  /** A transport failure as the provider sees it. A request that may have arrived counts as answered (the caller settles its grant first). */
  private sendFailed(call: Call, error: unknown, started: number): XEnrichError {
    const label = this.labelled(call);
    const failure = error instanceof TransportFailure && error.code === 'X_TOO_LARGE' ? new UpstreamError('bad_response', `${label.upstream} ${call.method} ${label.path} answered more than ${this.maxResponseBytes} bytes (maxResponseBytes).`) : transportError(error, label, call.context.signal, call.exchange.timeoutMs);
    return this.failed(failure, label, undefined, started);
  }

  /**
   * A received answer: the response for a 2xx or a not-found answer, or the failure of any other
   * status, neither reported yet (a quota refusal may be waited out instead). Throws the failure
   * of a 2xx whose body is not JSON, reported.
   */
  private answerOf(call: Call, response: RawAnswer, started: number): Answer | StatusFailure {
    const { status, text } = response;
    if (this.isSuccess(status)) {
      // Read now, as the answer arrives: a lookup asking for the raw response may have joined.
      const body = this.parseStrict(text, status, call.method, call.unread !== undefined && call.context.rawWanted === false ? call.unread : undefined);
      if (body === NO_BODY) throw this.failed(badBodyError(this.labelled(call), status, text, this.scrub), this.labelled(call), status, started);
      return new Answer(status, body, false, undefined, response.headers);
    }
    const parsed = parseLoose(text);
    const error = safeErrorBody(this.parseError(parsed), this.scrub);
    if (status >= 300 && this.isNotFound(status, error)) return new Answer(status, parsed, true, error, response.headers);
    const rule = ruleFor(this.definition.statuses, status) ?? { kind: 'http' as const };
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], this.client.clock.now());
    return { failure: statusError(this.labelled(call), status, rule, error, retryAfterMs), quota: rule.kind === 'quota', retryAfterMs };
  }

  /** A status read as a success: a 2xx the upstream's `statuses` does not map to a failure. */
  private isSuccess(status: number): boolean {
    return status >= 200 && status < 300 && this.definition.statuses?.[status] === undefined;
  }

  /** A request that waits for budget before each send, and waits again after a quota refusal. */
  private async requestLimited(call: Call, limiter: RateLimiter, cost: number): Promise<UpstreamResponse> {
    const { context } = call;
    const transport = this.transport();
    for (let refusals = 0; ; refusals++) {
      const grant = await this.waitForBudget(limiter, cost, context);
      const started = performance.now();
      let response: RawAnswer;
      try {
        response = await transport.send(call.exchange);
      } catch (error) {
        await settle(grant);
        throw this.sendFailed(call, error, started);
      }
      // A 2xx is reported to the limiter before it is read (a body that is not JSON included).
      if (this.isSuccess(response.status)) await settle(grant);
      const answer = this.answerOf(call, response, started);
      if (answer instanceof Answer) {
        if (answer.notFound) await settle(grant);
        this.answered(this.labelled(call), answer.status, started);
        return answer;
      }
      const { failure, retryAfterMs } = answer;
      if (answer.quota && refusals < REFUSALS_ABSORBED && (await this.client.absorbsRefusals())) {
        // Not an error for the provider: the limiter learns the window is full, and this request
        // waits for budget again in its turn, without spending a retry attempt.
        this.refused(failure, this.labelled(call), response.status, started, refusals + 1);
        await this.withTimeoutPaused(context, () => grant.refused(retryAfterMs).catch(() => undefined));
        continue;
      }
      await settle(grant);
      throw this.failed(failure, this.labelled(call), response.status, started);
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
