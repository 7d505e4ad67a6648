import { isAxiosError, isUpstreamError, isXEnrichError, REDACTED, UpstreamError, XEnrichError, type HttpClient, type Logger } from '@x/core';
import type { AxiosResponse } from 'axios';
import type { V2ReportKind } from './mapping.js';
import type { VirusTotalV2Options } from './options.js';

/** VirusTotal sends 204 for every exhausted quota; the minute window is the usual culprit. */
const QUOTA_RETRY_AFTER_MS = 60_000;

/** The query parameter that names the looked-up resource, per endpoint. */
const RESOURCE_PARAM: Record<V2ReportKind, string> = { file: 'resource', url: 'resource', domain: 'domain', 'ip-address': 'ip' };

/** file/report takes `a,b,c`; url/report takes one URL per line (URLs may contain commas). */
const BATCH_SEPARATOR: Record<V2ReportKind, string> = { file: ',', url: '\n', domain: '', 'ip-address': '' };

/**
 * Thin HTTP layer over the v2 report endpoints. Its one job beyond the request is keeping the
 * API key out of everything it emits: v2 puts the key in the query string, so a request URL is
 * itself a secret. Nothing here logs a URL or attaches an HTTP library error (whose `config`
 * holds the URL and params) as a cause; every failure is rebuilt as an `UpstreamError` from
 * the status alone, with the key scrubbed from any text that might echo it.
 */
export class VirusTotalV2Client {
  constructor(
    private readonly http: HttpClient,
    private readonly options: Pick<VirusTotalV2Options, 'apiUrl' | 'apiKey' | 'requestTimeout'>,
  ) {}

  /**
   * GETs `<kind>/report` for one resource, or several joined the way the endpoint expects
   * (file and url only). Resolves with the parsed JSON body: an object for one resource, an
   * array for several. Throws `UpstreamError` (quota for 204, auth for 401/403, bad_response
   * for a body that is not JSON).
   */
  async report(kind: V2ReportKind, resources: readonly string[], context: { signal: AbortSignal; logger: Logger }): Promise<unknown> {
    if (resources.length === 0) throw new RangeError('report() needs at least one resource');
    if (resources.length > 1 && BATCH_SEPARATOR[kind] === '') throw new RangeError(`${kind}/report takes one resource per request`);
    const endpoint = `${kind}/report`;
    context.logger.debug({ endpoint, resources: resources.length }, 'VirusTotal v2 request');

    let response: AxiosResponse<unknown>;
    try {
      response = await this.http.get(new URL(endpoint, this.options.apiUrl).toString(), {
        params: { apikey: this.options.apiKey, [RESOURCE_PARAM[kind]]: resources.join(BATCH_SEPARATOR[kind]) },
        signal: context.signal,
        timeout: this.options.requestTimeout,
        // Parse JSON ourselves: axios silently hands back a string when JSON parsing fails.
        responseType: 'text',
        headers: { Accept: 'application/json' },
        // Every status is classified below, so none reaches axios' own error (which carries the URL).
        validateStatus: () => true,
      });
    } catch (error) {
      throw this.toUpstreamError(error, endpoint, context.signal);
    }

    const failure = this.statusError(response.status, endpoint);
    if (failure) {
      context.logger.debug({ endpoint, status: response.status, kind: failure.kind }, 'VirusTotal v2 request failed');
      throw failure;
    }
    return this.parseBody(response.data, endpoint);
  }

  /** Replaces the key (raw or URL-encoded) in any text that might have echoed it. */
  scrub(text: string): string {
    const key = this.options.apiKey;
    if (!key) return text;
    return text.split(key).join(REDACTED).split(encodeURIComponent(key)).join(REDACTED);
  }

  private statusError(status: number, endpoint: string): UpstreamError | undefined {
    if (status === 200) return undefined;
    if (status === 204 || status === 429) {
      return new UpstreamError('quota', `VirusTotal v2 ${endpoint} answered HTTP ${status}: request rate limit exceeded (minute, daily or monthly quota). Retried after the window, waiting at most resilience.retry.maxDelay (default 60s); lower the rate limit or use a key with more quota.`, {
        status,
        retryAfterMs: QUOTA_RETRY_AFTER_MS,
      });
    }
    if (status === 401 || status === 403) {
      return new UpstreamError('auth', `VirusTotal v2 ${endpoint} answered HTTP ${status}: the API key was refused (wrong key, or a private-API call with a public key). Check the apiKey option.`, {
        status,
        retryable: false,
      });
    }
    if (status === 400) return new UpstreamError('bad_request', `VirusTotal v2 ${endpoint} answered HTTP 400: missing or wrong arguments.`, { status });
    return new UpstreamError('http', `VirusTotal v2 ${endpoint} answered HTTP ${status}.`, { status });
  }

  private parseBody(data: unknown, endpoint: string): unknown {
    if (typeof data !== 'string') {
      // A host's HTTP client may have parsed JSON already.
      if (typeof data === 'object' && data !== null) return data;
      throw new UpstreamError('bad_response', `VirusTotal v2 ${endpoint} answered HTTP 200 without a JSON body.`);
    }
    if (data.trim() === '') throw new UpstreamError('bad_response', `VirusTotal v2 ${endpoint} answered HTTP 200 with an empty body.`);
    try {
      return JSON.parse(data) as unknown;
    } catch {
      const start = this.scrub(data.slice(0, 40)).replace(/\s+/g, ' ');
      throw new UpstreamError('bad_response', `VirusTotal v2 ${endpoint} answered HTTP 200 with a body that is not JSON (starts with ${JSON.stringify(start)}).`);
    }
  }

  private toUpstreamError(error: unknown, endpoint: string, signal: AbortSignal): XEnrichError {
    if (signal.aborted) return new XEnrichError('X_ABORTED', `VirusTotal v2 ${endpoint} lookup was aborted.`);
    if (isUpstreamError(error)) {
      // Core's HTTP client already classified it; rebuild without the cause and re-scrub the
      // text, so nothing that held the request URL travels further. A 403 is never retried.
      const auth = error.status === 401 || error.status === 403;
      return new UpstreamError(auth ? 'auth' : error.kind, this.scrub(error.message), {
        status: error.status,
        upstreamCode: error.upstreamCode,
        retryAfterMs: error.retryAfterMs,
        retryable: auth ? false : error.retryable,
      });
    }
    // Core's own errors (rate-limit budget exhausted, aborted) are already safe and precise.
    if (isXEnrichError(error)) return error;
    if (isAxiosError(error)) {
      if (error.response) return this.statusError(error.response.status, endpoint) ?? new UpstreamError('http', `VirusTotal v2 ${endpoint} failed.`);
      const timedOut = error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT';
      return timedOut
        ? new UpstreamError('timeout', `VirusTotal v2 ${endpoint} did not answer within ${this.options.requestTimeout} ms.`)
        : new UpstreamError('network', `VirusTotal v2 ${endpoint} could not be reached (${error.code ?? 'network error'}). Check apiUrl and connectivity.`);
    }
    const message = error instanceof Error ? this.scrub(error.message) : 'unknown failure';
    return new UpstreamError('network', `VirusTotal v2 ${endpoint} failed: ${message}`);
  }
}
