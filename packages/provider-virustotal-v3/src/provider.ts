import { inject, injectable, Tokens, type Clock, type EnrichContext, type EnrichmentProvider, type HttpClient, type Observable, type ProviderOutcome, type Reason } from '@x/core';
import { VirusTotalV3Client } from './client.js';
import { relationshipsFor, yaraRulesetIds } from './depth.js';
import { fetchRelatedObjects, fetchYaraRulesets, requestReanalysis } from './depth-requests.js';
import { lookupFor, mapV3Object, type V3Lookup } from './mapping.js';
import type { VirusTotalV3Options } from './options.js';

const NONE: readonly never[] = [];

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
    @inject(Tokens.Clock) private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.client = new VirusTotalV3Client(http, options);
  }

  /**
   * Looks one observable up. Found -> fields, verdict from `maliceRules`, entities; VirusTotal's
   * NotFoundError -> `not_found`. Upstream failures throw `UpstreamError` (see the client).
   */
  async enrich(observable: Observable, context: EnrichContext): Promise<ProviderOutcome> {
    const lookup = lookupFor(observable);
    const { relationships, relatedObjects, extract, ruleText, maliceRules } = this.options;
    // Relationship descriptors come with the object: still one request, one unit of quota.
    const names = relationshipsFor(lookup.objectType, relationships);
    const answer = await this.client.getObject(lookup.collection, lookup.id, context, names);
    if (!answer.found) {
      return {
        kind: 'not_found',
        reasons: [{ rule: answer.upstreamCode, message: `VirusTotal has no ${lookup.objectType.replace('_', ' ')} object for this ${observable.type}.` }],
      };
    }
    const depth = { extract, ruleText, relationships: names.length > 0 };
    let outcome = mapV3Object(observable, answer.body, maliceRules, depth, lookup);
    if (outcome.kind !== 'found') return outcome;
    const stale = this.staleness(outcome.extracted.last_analysis_date);
    if (stale && this.options.reanalyseStale && (lookup.objectType === 'file' || lookup.objectType === 'url')) return this.reanalyse(observable, lookup, stale, answer.body, context);
    // Related objects in full and YARA rule text: one more request each, only when asked for
    // (relatedObjects, yaraRulesets); the object is then mapped again with what they brought.
    // Without related objects asked for (the default), nothing to filter per lookup.
    const wanted = relatedObjects.length === 0 ? NONE : relatedObjects.filter(({ name }) => relationshipsFor(lookup.objectType, [name]).length > 0);
    const rulesetIds = yaraRulesetIds(outcome.extracted.crowdsourced, this.options.yaraRulesets);
    if (wanted.length > 0 || rulesetIds.length > 0) {
      const relatedBodies = wanted.length > 0 ? await fetchRelatedObjects(this.client, lookup, wanted, context) : undefined;
      const yaraRulesetBodies = rulesetIds.length > 0 ? await fetchYaraRulesets(this.client, rulesetIds, context) : undefined;
      outcome = mapV3Object(observable, answer.body, maliceRules, { ...depth, relatedBodies, yaraRulesetBodies }, lookup);
      if (outcome.kind !== 'found') return outcome;
    }
    if (stale) outcome.reasons.push(stale);
    return outcome;
  }

  /** The `stale_analysis` reason when the analysis is older than maxAnalysisAge, else undefined. */
  private staleness(lastAnalysisDate: unknown): Reason | undefined {
    const maxAge = this.options.maxAnalysisAge;
    if (maxAge === undefined || typeof lastAnalysisDate !== 'string') return undefined;
    const ageMs = this.clock.now() - Date.parse(lastAnalysisDate);
    if (!(ageMs > maxAge)) return undefined;
    const days = (ms: number) => Math.round((ms / 86_400_000) * 10) / 10;
    return {
      rule: 'stale_analysis',
      message: `The last analysis (${lastAnalysisDate}) is ${days(ageMs)} days old, older than maxAnalysisAge (${days(maxAge)} days): the verdict may be out of date.`,
      values: { last_analysis_date: lastAnalysisDate, age_days: days(ageMs), max_age_days: days(maxAge) },
    };
  }

  /** Asks for a fresh analysis (one request of quota) and answers pending with its id; the next lookup reads the result. */
  private async reanalyse(observable: Observable, lookup: V3Lookup, stale: Reason, raw: unknown, context: EnrichContext): Promise<ProviderOutcome> {
    const analysisId = await requestReanalysis(this.client, observable, lookup, context);
    return {
      kind: 'pending',
      reasons: [
        stale,
        {
          rule: 'reanalysis_requested',
          message: `Asked VirusTotal to analyse it again (analysis ${analysisId ?? 'id not given'}); look it up again later for the fresh verdict.`,
          values: { analysis_id: analysisId },
        },
      ],
      raw,
    };
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
