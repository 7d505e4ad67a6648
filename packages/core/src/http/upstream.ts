import type { UpstreamFailureKind } from '../contract/x-enrich-error.js';
import type { EnrichContext } from '../contract/provider.js';

/**
 * How a provider authenticates: a header or a query parameter carrying a secret. The secret is
 * scrubbed (raw, URL-encoded and form-encoded) from every message, log line and error the client
 * produces, even when the host did not list it among its secrets.
 */
export type UpstreamAuth =
  /** `Authorization: Bearer <secret>` is `{ header: 'authorization', scheme: 'Bearer', secret }`. */
  | { readonly header: string; readonly secret: string; readonly scheme?: string }
  | { readonly query: string; readonly secret: string };

/** What an upstream said about a failed request, read from its error body by `parseError`. */
export interface UpstreamErrorBody {
  /** The upstream's own error code (VirusTotal: `NotFoundError`, `QuotaExceededError`). */
  readonly code?: string;
  readonly message?: string;
}

/**
 * How one HTTP status fails: the kind (which sets the error code and whether it is retried),
 * and optionally a sentence appended to the message, whether to retry, and the wait to report
 * when the upstream sends no `Retry-After`.
 */
export interface StatusRule {
  readonly kind: UpstreamFailureKind;
  /** Default: transient kinds (network, timeout, quota, 5xx http) are retried, the rest not. */
  readonly retryable?: boolean;
  /** What the user should do, appended to the message: `Check the apiKey option.` */
  readonly hint?: string;
  /** `retryAfterMs` of the error when the answer has no `Retry-After` header. */
  readonly retryAfterMs?: number;
}

/**
 * Everything a provider says about its upstream API; core does the rest (see `UpstreamClient`).
 * Build it once per provider instance, in the constructor: `http.upstream({ ... })`.
 */
export interface UpstreamDefinition {
  /** How messages name the upstream: `VirusTotal v3`. Default: the base URL's host. */
  readonly name?: string;
  /** Every request goes to this URL plus its encoded path segments. No query string, no credentials. */
  readonly baseUrl: string;
  readonly auth?: UpstreamAuth;
  /** Headers sent with every request (`accept: application/json` is always sent). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Other values that must never appear in messages or logs (the auth secret is already known). */
  readonly secrets?: readonly string[];
  /** Timeout of one HTTP request, from sending it to the last byte of the answer. Default 30 s. */
  readonly timeoutMs?: number;
  /**
   * Largest answer body accepted, in bytes; a larger one fails as `bad_response` without being
   * read to the end. Default 10 MiB.
   */
  readonly maxResponseBytes?: number;
  /**
   * Reads the upstream's error code and message from the parsed JSON body of a non-2xx answer
   * (not called when the body is not JSON; a throw counts as "nothing read"). Default: the common
   * `{ error: { code, message } }`, `{ code, message }` and `{ error: "message" }` shapes.
   */
  parseError?(body: unknown): UpstreamErrorBody | undefined;
  /**
   * Status -> failure, over core's defaults: 400 bad_request; 401 and 403 auth (not retried);
   * 429 quota; 5xx http (retried); 3xx (never followed: the credentials would travel with the
   * redirect) and other 4xx http (not retried). A 2xx listed here fails too (VirusTotal v2 says
   * "quota exhausted" with 204).
   */
  readonly statuses?: Readonly<Record<number, UpstreamFailureKind | StatusRule>>;
  /**
   * Which non-2xx answers mean "the upstream has no such object": the request then resolves with
   * `notFound: true` instead of failing. The statuses, or a test of the status and the parsed
   * error body (VirusTotal v3: 404 with the code `NotFoundError`, where any other 404 means a wrong
   * base URL). Checked before `statuses`.
   */
  readonly notFound?: readonly number[] | ((answer: { status: number; error: UpstreamErrorBody | undefined }) => boolean);
}

/** Query values; `undefined` leaves the parameter out, an array repeats it. */
export type UpstreamQuery = Readonly<Record<string, string | number | boolean | undefined | readonly string[]>>;

/** What one request may add to the definition. */
export interface UpstreamRequestOptions {
  readonly query?: UpstreamQuery;
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON body (sent with `content-type: application/json`). */
  readonly json?: unknown;
  /** A form body (sent as `application/x-www-form-urlencoded`). */
  readonly form?: Readonly<Record<string, string>>;
  /** Overrides the definition's `timeoutMs` for this request. */
  readonly timeoutMs?: number;
  /** Units of rate-limit budget the request costs. Default 1 (a batched request is still one). */
  readonly cost?: number;
  /**
   * Object members the provider never reads, by name, at any depth of a 2xx JSON body: left out
   * of the parsed body without being built, while nobody will see the raw response (the
   * context's `rawWanted` is false) and they make up a quarter of the body or more (below that,
   * copying the rest costs more than it saves: the body is parsed whole). VirusTotal's `last_analysis_results` is ~85 % of an object
   * and half the cost of parsing it. A left-out member's value is matched by its brackets and
   * strings, not validated. Names without `"`, `\` or control characters.
   */
  readonly unread?: readonly string[];
}

export interface UpstreamRequest extends UpstreamRequestOptions {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /**
   * The path below `baseUrl`, one array entry per segment. Every segment is percent-encoded, so
   * no value (an observable) can change the path: `['files', hash]`, `['urls', id, 'comments']`.
   * An empty or dot-only segment is refused (X_OBSERVABLE_INVALID): URL resolution would drop it.
   */
  readonly path: readonly string[];
  /** Ends the path with `/` (`['host']` -> `/host/`), for APIs that require it (abuse.ch's). */
  readonly trailingSlash?: boolean;
}

/**
 * The part of an `EnrichContext` a request uses: its signal (aborting it closes the socket),
 * its attempt timeout (paused while the request waits for rate-limit budget) and whether the raw
 * response is wanted (`unread`). Pass the `EnrichContext` the engine gave the provider.
 */
export type UpstreamCallContext = Pick<EnrichContext, 'signal' | 'attemptTimeout' | 'rawWanted'>;

/** A successful answer (2xx), or a not-found one when the definition's `notFound` matched. */
export interface UpstreamResponse {
  readonly status: number;
  /** The parsed JSON body; `undefined` when the answer has none (204, or a not-found without a JSON body). */
  readonly body: unknown;
  /** The definition's `notFound` rule matched: the upstream has no such object. */
  readonly notFound: boolean;
  /** On a not-found answer, what the upstream said (scrubbed of secrets). */
  readonly error: UpstreamErrorBody | undefined;
  /** A response header, by case-insensitive name. */
  header(name: string): string | undefined;
}

/**
 * One upstream API, as a provider sees it. Each request:
 * 1. waits for one unit (`cost`) of the instance's rate-limit budget, with the attempt's timeout
 *    paused meanwhile;
 * 2. is sent once, with the auth, over a keep-alive socket;
 * 3. resolves with the parsed JSON body of a 2xx (strict: a body that is not JSON fails as
 *    `bad_response`), or with `notFound: true`;
 * 4. or rejects with an `UpstreamError` whose message names the upstream, the method, the path
 *    (never the query string) and the status, with every secret scrubbed: kinds `auth`, `quota`,
 *    `bad_request`, `http`, `bad_response`, `network` and `timeout`; or with X_ABORTED when the
 *    signal aborts, X_RATE_LIMIT_EXHAUSTED when the budget will not come back in time.
 *
 * A quota refusal (429, or what `statuses` maps to `quota`) is not an error the provider sees:
 * it is reported to the rate limiter, and the request waits for budget again in its turn without
 * spending a retry attempt. Only without a rate limit, or after repeated refusals of one request,
 * does it reject with `quota`.
 */
export interface UpstreamClient {
  request(request: UpstreamRequest, context: UpstreamCallContext): Promise<UpstreamResponse>;
  get(path: readonly string[], context: UpstreamCallContext, options?: UpstreamRequestOptions): Promise<UpstreamResponse>;
  post(path: readonly string[], context: UpstreamCallContext, options?: UpstreamRequestOptions): Promise<UpstreamResponse>;
}

/**
 * What providers receive under `Tokens.HttpClient`: the instance's HTTP client, owned by core
 * (rate limit, timeouts, keep-alive sockets, classification, secret scrubbing). A provider
 * describes its API once with `upstream(definition)` and sends requests through the result.
 */
export interface HttpClient {
  upstream(definition: UpstreamDefinition): UpstreamClient;
}

/** One finished upstream request, for metrics. Carries no URL, headers or params. */
export interface HttpCallInfo {
  method: string;
  status: number | undefined;
  durationMs: number;
  /** The x-enrich error code when the request failed (X_UPSTREAM_QUOTA for an absorbed refusal). */
  errorCode?: string;
}
