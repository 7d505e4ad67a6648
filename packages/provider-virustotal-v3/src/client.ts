import type { HttpClient, UpstreamCallContext, UpstreamClient, UpstreamDefinition, UpstreamResponse } from '@x/core';
import { parseV3Error, type V3Collection } from './mapping.js';
import type { VirusTotalV3Options } from './options.js';

/**
 * Members of an object this provider never reads (no field, group, rule or relationship does):
 * `last_analysis_results`, one entry per engine, ~85 % of an object's bytes. Core's upstream
 * client leaves them out of the parsed body unless a lookup asked for the raw response
 * (`UpstreamRequestOptions.unread`); mapping.test.ts holds every capture to the same output.
 */
export const UNREAD_MEMBERS: readonly string[] = ['last_analysis_results'];
const UNREAD = { unread: UNREAD_MEMBERS };

/** What a lookup found: the object body, or VirusTotal's NotFoundError. */
export type V3LookupAnswer = { found: true; body: unknown } | { found: false; upstreamCode: string; message: string | undefined };

/**
 * What is VirusTotal's own in the v3 API; core's upstream client does the rest (rate-limit
 * budget, timeouts, JSON, classification, keeping the key out of messages and logs):
 * - the key travels only in the `x-apikey` header;
 * - errors come as `{ error: { code, message } }`;
 * - 404 with `NotFoundError` means "VirusTotal has no such object"; any other 404 is a wrong `baseUrl`;
 * - a 429 carries no Retry-After: its shortest quota window is one minute.
 */
export function virusTotalV3Upstream(options: Pick<VirusTotalV3Options, 'baseUrl' | 'apiKey' | 'requestTimeout'>): UpstreamDefinition {
  return {
    name: 'VirusTotal v3',
    baseUrl: options.baseUrl,
    auth: { header: 'x-apikey', secret: options.apiKey },
    timeoutMs: options.requestTimeout,
    parseError: parseV3Error,
    notFound: ({ status, error }) => status === 404 && error?.code === 'NotFoundError',
    statuses: {
      401: { kind: 'auth', retryable: false, hint: 'The API key is missing, wrong or inactive: check the apiKey option.' },
      403: { kind: 'auth', retryable: false, hint: 'The key may not perform this operation: check the apiKey option.' },
      404: { kind: 'http', retryable: false, hint: "This is not VirusTotal's NotFoundError: check baseUrl." },
      429: { kind: 'quota', retryAfterMs: 60_000, hint: 'A minute, daily or monthly quota of the key is used up; lower providers.<name>.rateLimit or use a key with more quota.' },
    },
  };
}

/**
 * The v3 endpoints this provider calls, over core's upstream client. Add an endpoint as one
 * method: `this.api.get(['files', id, 'relationships', name], context)`; every path segment is
 * percent-encoded, so no observable can change the path.
 */
export class VirusTotalV3Client {
  private readonly api: UpstreamClient;

  constructor(http: HttpClient, options: Pick<VirusTotalV3Options, 'baseUrl' | 'apiKey' | 'requestTimeout'>) {
    this.api = http.upstream(virusTotalV3Upstream(options));
  }

  /**
   * GETs one object (`/<collection>/<id>`). Resolves with the parsed JSON body, or
   * `{ found: false }` for VirusTotal's NotFoundError. Throws core's `UpstreamError`s.
   */
  getObject(collection: V3Collection, id: string, context: UpstreamCallContext, relationships: readonly string[] = []): Promise<V3LookupAnswer> {
    // `?relationships=a,b` adds their descriptors to the object: still one request, one unit of quota.
    // A `.then`, not an async function: one promise and async frame fewer on every miss.
    return this.api.get([collection, id], context, relationships.length ? { query: { relationships: relationships.join(',') }, ...UNREAD } : UNREAD).then(found);
  }

  /** `GET /<collection>/<id>/<relationship>?limit=N`: one page of the related objects in full (one request). */
  async getRelated(collection: V3Collection, id: string, relationship: string, limit: number, context: UpstreamCallContext): Promise<V3LookupAnswer> {
    return found(await this.api.get([collection, id, relationship], context, { query: { limit }, ...UNREAD }));
  }

  /** `GET /yara_rulesets/<id>`: one crowdsourced YARA ruleset with its rule text (one request). */
  async getYaraRuleset(id: string, context: UpstreamCallContext): Promise<V3LookupAnswer> {
    return found(await this.api.get(['yara_rulesets', id], context));
  }

  /** `POST /files/<id>/analyse`: asks VirusTotal to analyse a file again (one request). */
  async analyseFile(id: string, context: UpstreamCallContext): Promise<V3LookupAnswer> {
    return found(await this.api.post(['files', id, 'analyse'], context));
  }

  /** `POST /urls` with the form field `url`: submits a URL for (re)analysis (one request). */
  async submitUrl(url: string, context: UpstreamCallContext): Promise<V3LookupAnswer> {
    return found(await this.api.post(['urls'], context, { form: { url } }));
  }
}

function found(answer: UpstreamResponse): V3LookupAnswer {
  if (answer.notFound) return { found: false, upstreamCode: answer.error?.code ?? 'NotFoundError', message: answer.error?.message };
  return { found: true, body: answer.body };
}
