import type { Observable } from '../observable/observable-type.js';
import type { ProviderOutcome } from '../plugin/provider.js';
import type { ObservableSummary, ResultRecord } from '../result/result-record.js';
import { VERDICT_SEVERITY } from '../result/result-record.js';
import type { XEnrichError } from '../errors/x-enrich-error.js';

type ProviderRef = ResultRecord['provider'];

const MISS = Object.freeze({ hit: false, storedAt: null, ageSeconds: null });

/** The record of a provider outcome. `cached`: the cache entry it came from, if any. */
export function outcomeRecord(
  observable: Observable,
  input: string,
  provider: ProviderRef,
  outcome: ProviderOutcome,
  fetchedAt: number,
  cached: { storedAt: number; now: number } | undefined,
  includeRaw: boolean,
): ResultRecord {
  const cache = cached
    ? { hit: true, storedAt: new Date(cached.storedAt).toISOString(), ageSeconds: Math.max(0, Math.floor((cached.now - cached.storedAt) / 1000)) }
    : { ...MISS };
  const base = { observable, input, provider, error: null, cache, fetchedAt: new Date(fetchedAt).toISOString() };
  const raw = includeRaw && outcome.raw !== undefined ? { raw: outcome.raw } : {};
  if (outcome.kind === 'found') {
    return {
      ...base,
      status: 'ok',
      verdict: outcome.verdict,
      confidence: outcome.confidence,
      reasons: outcome.reasons,
      extracted: outcome.extracted,
      entities: outcome.entities,
      ...raw,
    };
  }
  return {
    ...base,
    status: outcome.kind,
    verdict: 'unknown',
    confidence: null,
    reasons: outcome.reasons ?? [],
    extracted: {},
    entities: [],
    ...raw,
  };
}

/** A record for a lookup that produced no outcome: error, unsupported or skipped. */
export function emptyRecord(
  observable: Observable | null,
  input: string,
  provider: ProviderRef,
  status: 'error' | 'unsupported' | 'skipped',
  error: Pick<XEnrichError, 'code' | 'message' | 'retryable'> | null,
): ResultRecord {
  return {
    observable,
    input,
    provider,
    status,
    verdict: 'unknown',
    confidence: null,
    reasons: [],
    extracted: {},
    entities: [],
    error: error ? { code: error.code, message: error.message, retryable: error.retryable } : null,
    cache: { ...MISS },
    fetchedAt: null,
  };
}

/**
 * The summary of one observable across providers: the worst verdict among `ok` records,
 * and the instances that said so (empty when the verdict is unknown).
 */
export function summarize(observable: Observable | null, input: string, records: readonly ResultRecord[]): ObservableSummary {
  let worst: ResultRecord['verdict'] = 'unknown';
  const providers: ObservableSummary['providers'] = {};
  for (const record of records) {
    providers[record.provider.name] = { status: record.status, verdict: record.verdict, confidence: record.confidence };
    if (VERDICT_SEVERITY[record.verdict] > VERDICT_SEVERITY[worst]) worst = record.verdict;
  }
  const decidedBy = worst === 'unknown' ? [] : records.filter((r) => r.verdict === worst).map((r) => r.provider.name);
  return { observable, input, verdict: worst, decidedBy, providers };
}
