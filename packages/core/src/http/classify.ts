import type { SecretScrubber } from '../contract/secret.js';
import { UpstreamError, XEnrichError, isXEnrichError } from '../contract/x-enrich-error.js';
import type { StatusRule, UpstreamDefinition, UpstreamErrorBody } from './upstream.js';

/**
 * `Retry-After` as milliseconds: either delta-seconds or an HTTP date. Undefined when absent
 * or unreadable; never negative.
 */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const AUTH: StatusRule = { kind: 'auth', retryable: false, hint: 'Check the API key configured for this instance.' };
const QUOTA: StatusRule = { kind: 'quota', hint: 'The upstream refused the request for quota.' };
const BAD_REQUEST: StatusRule = { kind: 'bad_request' };
const SERVER: StatusRule = { kind: 'http', retryable: true };
const CLIENT: StatusRule = { kind: 'http', retryable: false };
const REDIRECT: StatusRule = { kind: 'http', retryable: false, hint: 'Redirects are not followed (the credentials would travel with them); check the base URL.' };

/** Core's rule for a status the definition does not list; undefined for 2xx (success). */
function defaultRule(status: number): StatusRule | undefined {
  if (status < 300) return undefined;
  if (status === 401 || status === 403) return AUTH;
  if (status === 429) return QUOTA;
  if (status === 400) return BAD_REQUEST;
  if (status >= 500) return SERVER;
  return status < 400 ? REDIRECT : CLIENT;
}

/** The rule for `status`: the definition's entry first, then core's defaults. */
export function ruleFor(statuses: UpstreamDefinition['statuses'], status: number): StatusRule | undefined {
  const own = statuses?.[status];
  if (own === undefined) return defaultRule(status);
  return typeof own === 'string' ? { kind: own } : own;
}

/** The common error bodies: `{ error: { code, message } }`, `{ code, message }`, `{ error: "message" }`. */
export function parseCommonError(body: unknown): UpstreamErrorBody | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const outer = body as Record<string, unknown>;
  const inner = typeof outer.error === 'object' && outer.error !== null ? (outer.error as Record<string, unknown>) : outer;
  const code = typeof inner.code === 'string' ? inner.code : undefined;
  const message = typeof inner.message === 'string' ? inner.message : typeof outer.error === 'string' ? outer.error : undefined;
  return code === undefined && message === undefined ? undefined : { code, message };
}

/** The upstream's error code and message, shortened and scrubbed, so they can go into a message. */
export function safeErrorBody(error: UpstreamErrorBody | undefined, scrub: SecretScrubber): UpstreamErrorBody | undefined {
  if (!error) return undefined;
  return { code: error.code === undefined ? undefined : scrub(error.code.slice(0, 100)), message: error.message === undefined ? undefined : scrub(error.message.slice(0, 200)) };
}

/** Identifies the request in messages: `VirusTotal v3 GET /api/v3/domains/example.org` (no query string). */
export interface RequestLabel {
  upstream: string;
  method: string;
  /** The path without query string, secrets already scrubbed. */
  path: string;
}

const where = (label: RequestLabel): string => `${label.upstream} ${label.method} ${label.path}`;

/**
 * The error for a failed status. The upstream's message is repeated (shortened, scrubbed)
 * except on auth failures, where upstreams are known to echo the key they refused.
 */
export function statusError(label: RequestLabel, status: number, rule: StatusRule, error: UpstreamErrorBody | undefined, retryAfterMs: number | undefined): UpstreamError {
  const code = error?.code ? ` ${error.code}` : '';
  const said = error?.message && rule.kind !== 'auth' ? `: ${error.message}` : '';
  const hint = rule.hint ? ` ${rule.hint}` : '';
  return new UpstreamError(rule.kind, `${where(label)} answered HTTP ${status}${code}${said}.${hint}`, {
    status,
    upstreamCode: error?.code,
    retryAfterMs: retryAfterMs ?? rule.retryAfterMs,
    ...(rule.retryable === undefined ? {} : { retryable: rule.retryable }),
  });
}

/** A 2xx whose body is empty or not JSON. The start of the body is quoted, scrubbed. */
export function badBodyError(label: RequestLabel, status: number, text: string, scrub: SecretScrubber): UpstreamError {
  if (text.trim() === '') return new UpstreamError('bad_response', `${where(label)} answered HTTP ${status} with an empty body.`, { status });
  const start = JSON.stringify(scrub(text.slice(0, 40)).replace(/\s+/g, ' '));
  return new UpstreamError('bad_response', `${where(label)} answered HTTP ${status} with a body that is not JSON (starts with ${start}).`, { status });
}

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Only the code of a transport failure is read: the error itself holds the URL and headers. */
interface TransportFailure {
  code?: unknown;
  name?: unknown;
}

/**
 * A request that got no answer: aborted (X_ABORTED, or the reason the signal carries when it is
 * an x-enrich error, such as the attempt's timeout), timed out, or a network failure. The HTTP
 * library's error is never kept as `cause`: it holds the request's URL and headers.
 */
export function transportError(error: unknown, label: RequestLabel, signal: AbortSignal | undefined, timeoutMs: number): XEnrichError {
  if (signal?.aborted) return isXEnrichError(signal.reason) ? signal.reason : new XEnrichError('X_ABORTED', `${where(label)} was aborted.`);
  if (isXEnrichError(error)) return error;
  const { code, name } = (error ?? {}) as TransportFailure;
  const errno = typeof code === 'string' ? code : undefined;
  if (errno === 'ERR_CANCELED' || name === 'CanceledError' || name === 'AbortError') return new XEnrichError('X_ABORTED', `${where(label)} was aborted.`);
  if (errno && TIMEOUT_CODES.has(errno)) return new UpstreamError('timeout', `${where(label)} did not answer within ${timeoutMs} ms.`, { details: { errno } });
  return new UpstreamError('network', `${where(label)} could not be reached (${errno ?? 'network error'}). Check the base URL and connectivity.`, { details: { errno } });
}
