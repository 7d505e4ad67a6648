import { isAxiosError, isUpstreamError, isXEnrichError, REDACTED, UpstreamError, XEnrichError, parseRetryAfter, type HttpClient, type Logger } from '@x/core';
import type { AxiosResponse } from 'axios';
import { parseV3Error, type V3Collection } from './mapping.js';
import type { VirusTotalV3Options } from './options.js';

/** VirusTotal sends no Retry-After with 429; its shortest quota window is one minute. */
const QUOTA_RETRY_AFTER_MS = 60_000;

/** Upstream codes whose message may echo the API key (`Wrong API key: <key>`): never repeated. */
const AUTH_STATUSES = new Set([401, 403]);

/** What a lookup found: the object body, or VirusTotal's NotFoundError. */
export type V3LookupAnswer = { found: true; body: unknown } | { found: false; upstreamCode: string; message: string | undefined };

/**
 * Encodes one path segment so no value can change the path: `/`, `?`, `#` and `%` are
 * percent-encoded by `encodeURIComponent`. Segments that URL resolution would collapse or
 * drop (empty, `.`, `..`, and their `%2e` spellings, which WHATWG URLs also treat as dots)
 * cannot be made safe by encoding, and no observable of any type looks like that: refused.
 * @throws XEnrichError X_OBSERVABLE_INVALID for an empty or all-dot segment.
 */
export function encodeSegment(segment: string): string {
  const encoded = encodeURIComponent(segment);
  if (/^(?:\.|%2e)*$/i.test(encoded)) {
    throw new XEnrichError('X_OBSERVABLE_INVALID', `${JSON.stringify(segment)} cannot be looked up on VirusTotal: an empty or dot-only value would change the request path.`);
  }
  return encoded;
}

/**
 * Thin HTTP layer over the v3 object endpoints (`GET /<collection>/<id>`). The key travels
 * only in the `x-apikey` header. Every status is classified here from VirusTotal's error
 * envelope, so 401/403 messages (VirusTotal's WrongCredentialsError echoes the key) are never
 * repeated and no HTTP library error (which holds the request headers) travels as a cause.
 */
export class VirusTotalV3Client {
  constructor(
    private readonly http: HttpClient,
    private readonly options: Pick<VirusTotalV3Options, 'baseUrl' | 'apiKey' | 'requestTimeout'>,
  ) {}

  /** The request URL of an object; every segment is encoded (see `encodeSegment`). */
  objectUrl(collection: V3Collection, id: string): string {
    return `${this.options.baseUrl}/${collection}/${encodeSegment(id)}`;
  }

  /**
   * GETs one object. Resolves with the parsed JSON body, or `{found: false}` for VirusTotal's
   * 404 NotFoundError. Throws `UpstreamError`: auth (401/403, not retried), quota (429,
   * retryable), bad_request (400), http (5xx retryable; other statuses not), bad_response
   * (a body that is not JSON), network/timeout (retryable).
   */
  async getObject(collection: V3Collection, id: string, context: { signal: AbortSignal; logger: Logger }): Promise<V3LookupAnswer> {
    const where = `GET /${collection}/{id}`;
    let response: AxiosResponse<unknown>;
    try {
      response = await this.http.get(this.objectUrl(collection, id), {
        headers: { 'x-apikey': this.options.apiKey, Accept: 'application/json' },
        signal: context.signal,
        timeout: this.options.requestTimeout,
        // Parse JSON ourselves: a quota or proxy error body may not be JSON at all.
        responseType: 'text',
        // Every status is classified below, from the status and VirusTotal's error envelope.
        validateStatus: () => true,
      });
    } catch (error) {
      throw this.toUpstreamError(error, where, context.signal);
    }
    const { status } = response;
    if (status === 200) return { found: true, body: this.parseBody(response.data, where, status, true) };

    const envelope = parseV3Error(this.parseBody(response.data, where, status, false));
    const upstreamCode = envelope?.code;
    context.logger.debug({ endpoint: where, status, upstreamCode }, 'VirusTotal v3 request failed');
    if (status === 404 && upstreamCode === 'NotFoundError') return { found: false, upstreamCode, message: envelope?.message && this.scrub(envelope.message) };
    throw this.statusError(status, where, upstreamCode, envelope?.message, response.headers);
  }

  /** Replaces the key (raw or URL-encoded) in any text that might have echoed it. */
  scrub(text: string): string {
    const key = this.options.apiKey;
    if (!key) return text;
    return text.split(key).join(REDACTED).split(encodeURIComponent(key)).join(REDACTED);
  }

  private statusError(status: number, where: string, upstreamCode: string | undefined, upstreamMessage: string | undefined, headers: unknown): UpstreamError {
    const code = upstreamCode ? ` ${upstreamCode}` : '';
    // VirusTotal's message is repeated only where it cannot carry the key, shortened and scrubbed anyway.
    const said = upstreamMessage && !AUTH_STATUSES.has(status) ? `: ${this.scrub(upstreamMessage.slice(0, 200))}` : '';
    const head = `VirusTotal v3 ${where} answered HTTP ${status}${code}${said}`;
    const options = { status, upstreamCode };
    if (AUTH_STATUSES.has(status)) {
      const why = status === 403 ? 'the key may not perform this operation' : 'the API key is missing, wrong or inactive';
      return new UpstreamError('auth', `${head} (${why}). Check the apiKey option.`, { ...options, retryable: false });
    }
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after')) ?? QUOTA_RETRY_AFTER_MS;
      return new UpstreamError('quota', `${head}. A minute, daily or monthly quota of the key is used up; lower providers.<name>.rateLimit or use a key with more quota.`, { ...options, retryAfterMs });
    }
    if (status === 400) return new UpstreamError('bad_request', `${head}.`, options);
    if (status === 404) return new UpstreamError('http', `${head}, which is not VirusTotal's NotFoundError; check baseUrl.`, { ...options, retryable: false });
    if (status >= 500) return new UpstreamError('http', `${head}.`, { ...options, retryable: true });
    return new UpstreamError('http', `${head}.`, { ...options, retryable: false });
  }

  /** JSON text -> value. For 200 a non-JSON body is a bad_response; for errors it is just no envelope. */
  private parseBody(data: unknown, where: string, status: number, required: boolean): unknown {
    if (typeof data !== 'string') {
      // A host's HTTP client may have parsed JSON already.
      if (typeof data === 'object' && data !== null) return data;
      if (required) throw new UpstreamError('bad_response', `VirusTotal v3 ${where} answered HTTP ${status} without a JSON body.`, { status });
      return undefined;
    }
    try {
      return JSON.parse(data) as unknown;
    } catch {
      if (!required) return undefined;
      const start = this.scrub(data.slice(0, 40)).replace(/\s+/g, ' ');
      throw new UpstreamError('bad_response', `VirusTotal v3 ${where} answered HTTP ${status} with a body that is not JSON (starts with ${JSON.stringify(start)}).`, { status });
    }
  }

  private toUpstreamError(error: unknown, where: string, signal: AbortSignal): XEnrichError {
    if (signal.aborted) return new XEnrichError('X_ABORTED', `VirusTotal v3 ${where} was aborted.`);
    if (isUpstreamError(error)) {
      // Core's HTTP client already classified it (no statuses reach it here: network, timeout);
      // rebuild without the cause and re-scrub, so nothing that held the request travels on.
      return new UpstreamError(error.kind, this.scrub(error.message), {
        status: error.status,
        upstreamCode: error.upstreamCode,
        retryAfterMs: error.retryAfterMs,
        retryable: AUTH_STATUSES.has(error.status ?? 0) ? false : error.retryable,
      });
    }
    // Core's own errors (rate-limit budget exhausted, aborted) are already safe and precise.
    if (isXEnrichError(error)) return error;
    if (isAxiosError(error)) {
      const timedOut = error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT';
      return timedOut
        ? new UpstreamError('timeout', `VirusTotal v3 ${where} did not answer within ${this.options.requestTimeout} ms.`)
        : new UpstreamError('network', `VirusTotal v3 ${where} could not be reached (${error.code ?? 'network error'}). Check baseUrl and connectivity.`);
    }
    const message = error instanceof Error ? this.scrub(error.message) : 'unknown failure';
    return new UpstreamError('network', `VirusTotal v3 ${where} failed: ${message}`);
  }
}

function headerValue(headers: unknown, name: string): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const h = headers as Record<string, unknown> & { get?: (name: string) => unknown };
  return typeof h.get === 'function' ? h.get(name) : h[name];
}
