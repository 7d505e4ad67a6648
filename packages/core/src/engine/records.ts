import type { Observable } from '../contract/observable-type.js';
import type { ProviderOutcome } from '../contract/provider.js';
import type { ObservableSummary, ResultRecord } from '../contract/result-record.js';
import { VERDICT_SEVERITY } from '../contract/result-record.js';
import type { XEnrichError } from '../contract/x-enrich-error.js';

type ProviderRef = ResultRecord['provider'];

const MISS = Object.freeze({ hit: false, storedAt: null, ageSeconds: null });

// Cache hits of one entry share its storedAt; formatting a date is a visible part of a hit's cost.
const isoCache = new Map<number, string>();
function iso(ms: number): string {
  let text = isoCache.get(ms);
  if (text === undefined) {
    if (isoCache.size >= 10_000) isoCache.clear();
    text = new Date(ms).toISOString();
    isoCache.set(ms, text);
  }
  return text;
}

/** 10000-01-01T00:00:00.000Z: from here on `toISOString` writes a six-digit, signed year. */
const YEAR_10000_MS = 253_402_300_800_000;
const MINUTE_MS = 60_000;
// The last fresh time formatted, and the minute of the last one formatted through the Date: a
// miss's fetchedAt is the clock's now, a few lookups per millisecond and all of a run's in few minutes.
let lastMs = Number.NaN;
let lastText = '';
let minute = Number.NaN;
let minutePrefix = '';

/**
 * `new Date(ms).toISOString()` of a fresh outcome's time (the clock's now: a new millisecond
 * every few misses, never seen again). The same millisecond again is the last text; a whole
 * millisecond in the minute of the last Date-formatted one (0 <= ms < year 10000:
 * `YYYY-MM-DDTHH:mm:` then `ss.sssZ`, fixed widths) is that minute's prefix with its seconds and
 * milliseconds, without a Date or the Map (issue 16: ~5 µs of a miss in the misses bench's
 * profile, a Map miss, a Date and a Map insert per lookup). Anything else is the Date's. Cache
 * hits keep `iso`'s Map: their times recur, and a Map hit is cheaper than a new string.
 */
function freshIso(ms: number): string {
  if (ms === lastMs) return lastText;
  let text: string;
  if (Math.floor(ms / MINUTE_MS) === minute && Number.isInteger(ms)) {
    const rest = ms - minute * MINUTE_MS;
    const secs = Math.floor(rest / 1000);
    const millis = rest - secs * 1000;
    text = `${minutePrefix}${secs < 10 ? '0' : ''}${secs}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
  } else {
    text = new Date(ms).toISOString();
    if (Number.isInteger(ms) && ms >= 0 && ms < YEAR_10000_MS) {
      minute = Math.floor(ms / MINUTE_MS);
      minutePrefix = text.slice(0, 17);
    }
  }
  lastMs = ms;
  lastText = text;
  return text;
}

/**
 * The record of a provider outcome. `cachedAt`: for a cache hit, the time it was read (the
 * entry's `storedAt` is `fetchedAt`); undefined for a fresh outcome. Plain numbers rather than
 * an object: a cache hit builds nothing but the record itself.
 */
export function outcomeRecord(
  observable: Observable,
  input: string,
  provider: ProviderRef,
  outcome: ProviderOutcome,
  fetchedAt: number,
  cachedAt: number | undefined,
  includeRaw: boolean,
): ResultRecord {
  const fetched = cachedAt !== undefined ? iso(fetchedAt) : freshIso(fetchedAt);
  const cache =
    cachedAt !== undefined
      ? { hit: true, storedAt: fetched, ageSeconds: Math.max(0, Math.floor((cachedAt - fetchedAt) / 1000)) }
      : { hit: false, storedAt: null, ageSeconds: null };
  const found = outcome.kind === 'found';
  const record: ResultRecord = {
    observable,
    input,
    provider,
    status: found ? 'ok' : outcome.kind,
    verdict: found ? outcome.verdict : 'unknown',
    confidence: found ? outcome.confidence : null,
    reasons: found ? outcome.reasons : (outcome.reasons ?? []),
    extracted: found ? outcome.extracted : {},
    entities: found ? outcome.entities : [],
    error: null,
    cache,
    fetchedAt: fetched,
  };
  if (includeRaw && outcome.raw !== undefined) record.raw = outcome.raw;
  return record;
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
export function summarize(observable: Observable | null, input: string, records: readonly ResultRecord[], start = 0, count = records.length - start): ObservableSummary {
  let worst: ResultRecord['verdict'] = 'unknown';
  const providers: ObservableSummary['providers'] = {};
  let decidedBy: string[] = [];
  // A range of `records` (the engine writes every input's records into one result array).
  for (let i = start; i < start + count; i++) {
    const record = records[i] as ResultRecord;
    providers[record.provider.name] = { status: record.status, verdict: record.verdict, confidence: record.confidence };
    if (record.verdict === 'unknown') continue;
    const severity = VERDICT_SEVERITY[record.verdict];
    if (severity > VERDICT_SEVERITY[worst]) {
      worst = record.verdict;
      decidedBy = [record.provider.name];
    } else if (severity === VERDICT_SEVERITY[worst]) {
      decidedBy.push(record.provider.name);
    }
  }
  return { observable, input, verdict: worst, decidedBy, providers };
}
