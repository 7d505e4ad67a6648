import type { HttpClient, Logger, UpstreamCallContext, UpstreamClient, UpstreamDefinition } from '@x/core';
import type { V2ReportKind } from './mapping.js';
import type { VirusTotalV2Options } from './options.js';

/** The query parameter that names the looked-up resource, per endpoint. */
const RESOURCE_PARAM: Record<V2ReportKind, string> = { file: 'resource', url: 'resource', domain: 'domain', 'ip-address': 'ip' };

/** file/report takes `a,b,c`; url/report takes one URL per line (URLs may contain commas). */
const BATCH_SEPARATOR: Record<V2ReportKind, string> = { file: ',', url: '\n', domain: '', 'ip-address': '' };

const QUOTA = { kind: 'quota', retryAfterMs: 60_000, hint: 'A minute, daily or monthly quota of the key is used up; lower the rate limit or use a key with more quota.' } as const;
const AUTH = { kind: 'auth', retryable: false, hint: 'The API key was refused (wrong key, or a private-API call with a public key): check the apiKey option.' } as const;

/**
 * What is VirusTotal's own in the v2 API; core's upstream client does the rest (rate-limit
 * budget, timeouts, JSON, classification, keeping the key out of messages and logs):
 * - the key travels as the `apikey` query parameter (so a request URL is itself a secret: core
 *   never puts a query string into a message or a log line);
 * - an exhausted quota answers 204 (or 429) without a body or Retry-After; the shortest quota
 *   window is one minute;
 * - 400 means missing or wrong arguments; 401/403 a refused key.
 * `response_code` (found, not found, queued) is read from the 200 body by the mapping.
 */
export function virusTotalV2Upstream(options: Pick<VirusTotalV2Options, 'apiUrl' | 'apiKey' | 'requestTimeout'>): UpstreamDefinition {
  return {
    name: 'VirusTotal v2',
    baseUrl: options.apiUrl,
    auth: { query: 'apikey', secret: options.apiKey },
    timeoutMs: options.requestTimeout,
    statuses: { 204: QUOTA, 429: QUOTA, 400: { kind: 'bad_request', hint: 'Missing or wrong arguments.' }, 401: AUTH, 403: AUTH },
  };
}

/** The v2 report endpoints, over core's upstream client. */
export class VirusTotalV2Client {
  private readonly api: UpstreamClient;

  constructor(http: HttpClient, options: Pick<VirusTotalV2Options, 'apiUrl' | 'apiKey' | 'requestTimeout'>) {
    this.api = http.upstream(virusTotalV2Upstream(options));
  }

  /**
   * GETs `<kind>/report` for one resource, or several joined the way the endpoint expects
   * (file and url only). Resolves with the parsed JSON body: an object for one resource, an
   * array for several. Throws core's `UpstreamError`s (quota for 204, auth for 401/403,
   * bad_response for a body that is not JSON).
   */
  async report(kind: V2ReportKind, resources: readonly string[], context: UpstreamCallContext & { logger: Logger }): Promise<unknown> {
    if (resources.length === 0) throw new RangeError('report() needs at least one resource');
    if (resources.length > 1 && BATCH_SEPARATOR[kind] === '') throw new RangeError(`${kind}/report takes one resource per request`);
    context.logger.debug({ endpoint: `${kind}/report`, resources: resources.length }, 'VirusTotal v2 request');
    const answer = await this.api.get([kind, 'report'], context, { query: { [RESOURCE_PARAM[kind]]: resources.join(BATCH_SEPARATOR[kind]) } });
    return answer.body;
  }
}
