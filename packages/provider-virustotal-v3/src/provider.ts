import { inject, injectable, Tokens, type EnrichContext, type EnrichmentProvider, type HttpClient, type Observable, type ProviderOutcome } from '@x/core';
import { VirusTotalV3Client } from './client.js';
import { lookupFor, mapV3Object } from './mapping.js';
import type { VirusTotalV3Options } from './options.js';

/** Google's resolver: an IP object VirusTotal always has, for health checks. */
const HEALTH_CHECK_IP = '8.8.8.8';

/**
 * The VirusTotal API v3 provider. One instance per configured provider, built by core's
 * container with the instance's validated options and its HTTP client (every request waits for
 * budget from the instance's rate limiter before it is sent).
 */
@injectable()
export class VirusTotalV3Provider implements EnrichmentProvider {
  private readonly client: VirusTotalV3Client;

  constructor(
    @inject(Tokens.ProviderOptions) private readonly options: VirusTotalV3Options,
    @inject(Tokens.HttpClient) http: HttpClient,
  ) {
    this.client = new VirusTotalV3Client(http, options);
  }

  /**
   * Looks one observable up. Found -> fields, verdict from `maliceRules`, entities; VirusTotal's
   * NotFoundError -> `not_found`. Upstream failures throw `UpstreamError` (see the client).
   */
  async enrich(observable: Observable, context: EnrichContext): Promise<ProviderOutcome> {
    const lookup = lookupFor(observable);
    const answer = await this.client.getObject(lookup.collection, lookup.id, context);
    if (!answer.found) {
      return {
        kind: 'not_found',
        reasons: [{ rule: answer.upstreamCode, message: `VirusTotal has no ${lookup.objectType.replace('_', ' ')} object for this ${observable.type}.` }],
      };
    }
    return mapV3Object(observable, answer.body, this.options.maliceRules);
  }

  /** One IP lookup: proves the key and the endpoint work (costs one request of quota). */
  async healthCheck(context: EnrichContext): Promise<{ ok: boolean; message?: string }> {
    try {
      await this.client.getObject('ip_addresses', HEALTH_CHECK_IP, context);
      return { ok: true };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : 'VirusTotal v3 health check failed' };
    }
  }
}
