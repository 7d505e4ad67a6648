import { UpstreamError, XEnrichError, isXEnrichError } from '../errors/x-enrich-error.js';

/** Replaces every secret (raw and URL-encoded) in `text` with `[REDACTED]`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.split(secret).join('[REDACTED]');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join('[REDACTED]');
  }
  return out;
}

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

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ERR_NETWORK', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET']);
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/** What survives of a failed request: never headers, query params, bodies sent, or the axios error itself. */
export interface RequestSummary {
  method: string;
  /** Path without the query string, secrets redacted. */
  path: string;
}

interface AxiosLikeError {
  code?: string;
  message?: string;
  name?: string;
  response?: { status: number; headers?: unknown; data?: unknown };
}

/** The upstream's own error code and message from common JSON error bodies (`{error:{code,message}}`, `{code,message}`). */
function upstreamDetails(data: unknown): { code?: string; message?: string } {
  if (typeof data !== 'object' || data === null) return {};
  const body = data as Record<string, unknown>;
  const inner = typeof body.error === 'object' && body.error !== null ? (body.error as Record<string, unknown>) : body;
  return {
    code: typeof inner.code === 'string' ? inner.code : undefined,
    message: typeof inner.message === 'string' ? inner.message.slice(0, 200) : typeof body.error === 'string' ? body.error.slice(0, 200) : undefined,
  };
}

function header(headers: unknown, name: string): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const h = headers as Record<string, unknown> & { get?: (name: string) => unknown };
  if (typeof h.get === 'function') return h.get(name);
  return h[name];
}

/**
 * Converts an axios failure into an `UpstreamError` that is safe to log and to put in a record:
 * the message names the method, the path (no query string) and the status; secrets are
 * redacted; the axios error (which carries request headers and params) is NOT kept as `cause`.
 * Errors that already are x-enrich errors (rate limit, abort) pass through unchanged.
 */
export function toUpstreamError(error: unknown, request: RequestSummary, secrets: readonly string[]): XEnrichError {
  if (isXEnrichError(error)) return error;
  const e = (error ?? {}) as AxiosLikeError;
  const where = `${request.method.toUpperCase()} ${request.path}`;
  const safe = (text: string): string => redactSecrets(text, secrets);

  if (e.code === 'ERR_CANCELED' || e.name === 'CanceledError' || e.name === 'AbortError') {
    return new XEnrichError('X_ABORTED', safe(`${where} was aborted.`));
  }
  const response = e.response;
  if (response && response.status >= 300) {
    const status = response.status;
    const upstream = upstreamDetails(response.data);
    const said = upstream.code || upstream.message ? ` (${[upstream.code, upstream.message].filter(Boolean).join(': ')})` : '';
    const base = safe(`${where} failed: HTTP ${status}${said}`);
    const options = { status, upstreamCode: upstream.code };
    if (status === 401 || status === 403) return new UpstreamError('auth', `${base}. Check the API key configured for this instance.`, options);
    if (status === 429) {
      return new UpstreamError('quota', `${base}. The upstream refused the request for quota.`, { ...options, retryAfterMs: parseRetryAfter(header(response.headers, 'retry-after')) });
    }
    if (status === 400) return new UpstreamError('bad_request', base, options);
    if (status === 404) return new UpstreamError('http', base, { ...options, retryable: false });
    if (status >= 500) return new UpstreamError('http', base, { ...options, retryable: true, retryAfterMs: parseRetryAfter(header(response.headers, 'retry-after')) });
    return new UpstreamError('http', base, { ...options, retryable: false });
  }
  if (response) {
    // A 2xx whose body could not be parsed (strict JSON parsing is on).
    return new UpstreamError('bad_response', safe(`${where} returned a response that is not valid JSON (HTTP ${response.status}).`), { status: response.status });
  }
  if (e.code && TIMEOUT_CODES.has(e.code)) return new UpstreamError('timeout', safe(`${where} timed out.`));
  if (e.code && NETWORK_CODES.has(e.code)) return new UpstreamError('network', safe(`${where} failed: ${e.code}.`), { details: { errno: e.code } });
  return new UpstreamError('network', safe(`${where} failed: ${e.code ?? 'network error'}.`), { details: { errno: e.code } });
}
