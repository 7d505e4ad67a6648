/**
 * The JSON of a `POST /v1/enrich` answer, byte for byte what `JSON.stringify` makes of it, but
 * cheaper when lookups come from the cache: a record's observable, provider and the outcome parts
 * a cache entry holds (reasons, extracted, entities) are the very same objects on every hit, so
 * their JSON is made once per object and reused (a WeakMap: it goes with the object). On a cached
 * lookup, serialising the answer was the largest single cost of the request (docs/performance.md).
 *
 * This relies on those objects not changing once a record holds them, which the engine already
 * relies on: the cache hands the same outcome to every caller.
 *
 * A record with the engine's keys in the engine's order is written from a template, and the short
 * strings that repeat (status, verdict, timestamps, inputs, keys) are quoted once: the per-key loop
 * with a JSON.stringify per key and per field cost more than one JSON.stringify of the whole answer
 * (6.7 against 4.0 µs for a two-record answer; the template takes 3.0 µs). A cache hit's record
 * then reuses its JSON up to `cache` (kept per outcome object, checked field by field): of the
 * bench's 4 KB answer, 3.5 -> 2.9 µs in a loop (docs/performance.md, serve3).
 */
import { CACHE_KEYS, hasKeys, RECORD_KEYS } from '../output/record-shape.js';

const SHARED_FIELDS = new Set(['observable', 'provider', 'reasons', 'extracted', 'entities']);

const ANSWER_KEYS = ['records', 'summaries'];
// An observable summary's fields, and those of its per-provider entries (records.ts summarize).
const SUMMARY_KEYS = ['observable', 'input', 'verdict', 'decidedBy', 'providers'];
const SUMMARY_PROVIDER_KEYS = ['status', 'verdict', 'confidence'];
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !('toJSON' in value);
// The quoted strings kept: statuses, verdicts, timestamps and inputs repeat from request to request.
const MAX_QUOTED = 4096;

/** A record's fields before `cache`, and their JSON. */
interface Prefix {
  observable: unknown;
  input: unknown;
  provider: unknown;
  status: unknown;
  verdict: unknown;
  confidence: unknown;
  reasons: unknown;
  extracted: unknown;
  entities: unknown;
  json: string;
  /**
   * The whole record's JSON the last time this prefix was written with a `{ hit, storedAt,
   * ageSeconds }` cache and these values: a hit of the same entry within the same second repeats
   * them all, and its JSON is then this very string.
   */
  whole?: { hit: unknown; storedAt: unknown; ageSeconds: unknown; fetchedAt: unknown; json: string };
}

/** A summary's values as last written, and its JSON (`keptSummary`). */
interface KeptSummary {
  input: unknown;
  verdict: unknown;
  decidedBy: unknown[];
  providers: Array<{ name: string; status: unknown; verdict: unknown; confidence: unknown }>;
  json: string;
}

const isPrimitive = (value: unknown): boolean => value === null || (typeof value !== 'object' && typeof value !== 'function');

export function createAnswerSerializer(): (answer: unknown) => string {
  const fragments = new WeakMap<object, string>();
  const quoted = new Map<string, string>();

  const shared = (value: object): string => {
    let json = fragments.get(value);
    if (json === undefined) {
      json = JSON.stringify(value);
      fragments.set(value, json);
    }
    return json;
  };

  /** JSON.stringify's output for a value (undefined where it has none), with the usual primitives made cheaply. */
  const json = (value: unknown): string | undefined => {
    if (typeof value === 'string') {
      let text = quoted.get(value);
      if (text === undefined) {
        if (quoted.size >= MAX_QUOTED) quoted.clear();
        text = JSON.stringify(value);
        quoted.set(value, text);
      }
      return text;
    }
    if (value === null) return 'null';
    // Number#toString is the algorithm JSON.stringify uses for finite numbers; the others are null.
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    return JSON.stringify(value);
  };

  const quote = (text: string): string => json(text) as string;

  const objectOrNull = (value: unknown): string | undefined => (value !== null && typeof value === 'object' ? shared(value) : json(value));

  /**
   * The JSON of a record up to its `cache` (observable ... error), kept per outcome object: a cache
   * hit of the same entry repeats every one of those fields (the same objects, the same strings),
   * and only `cache` and `fetchedAt` can differ. Reused only when each field is the very same
   * value (===), so it is exactly what the template would write; records with an error are not
   * kept (an error object is not one of the shared objects above).
   */
  const prefixes = new WeakMap<object, Prefix>();

  const prefixOf = (value: Record<string, unknown>): Prefix | undefined => {
    const key = value.extracted ?? value.reasons ?? value.entities;
    const keyed = key !== null && typeof key === 'object' && value.error === null;
    if (keyed) {
      const kept = prefixes.get(key);
      if (
        kept !== undefined &&
        kept.observable === value.observable &&
        kept.input === value.input &&
        kept.provider === value.provider &&
        kept.status === value.status &&
        kept.verdict === value.verdict &&
        kept.confidence === value.confidence &&
        kept.reasons === value.reasons &&
        kept.extracted === value.extracted &&
        kept.entities === value.entities
      ) {
        return kept;
      }
    }
    const parts = [
      objectOrNull(value.observable),
      json(value.input),
      objectOrNull(value.provider),
      json(value.status),
      json(value.verdict),
      json(value.confidence),
      objectOrNull(value.reasons),
      objectOrNull(value.extracted),
      objectOrNull(value.entities),
      json(value.error),
    ];
    if (parts.includes(undefined)) return undefined;
    const text =
      `{"observable":${parts[0]},"input":${parts[1]},"provider":${parts[2]},"status":${parts[3]},"verdict":${parts[4]},` +
      `"confidence":${parts[5]},"reasons":${parts[6]},"extracted":${parts[7]},"entities":${parts[8]},"error":${parts[9]},"cache":`;
    const { observable, input, provider, status, verdict, confidence, reasons, extracted, entities } = value;
    const prefix: Prefix = { observable, input, provider, status, verdict, confidence, reasons, extracted, entities, json: text };
    if (keyed) prefixes.set(key, prefix);
    return prefix;
  };

  /** The record from the template, or undefined when a field has no JSON (the generic path leaves it out). */
  const templated = (value: Record<string, unknown>): string | undefined => {
    const prefix = prefixOf(value);
    if (prefix === undefined) return undefined;
    const cache = value.cache;
    const fetchedAt = value.fetchedAt;
    const cacheTemplated = cache !== null && typeof cache === 'object' && !Array.isArray(cache) && !('toJSON' in cache) && hasKeys(cache, CACHE_KEYS);
    if (cacheTemplated) {
      const { hit, storedAt, ageSeconds } = cache as Record<string, unknown>;
      const whole = prefix.whole;
      // Primitives that are === have the same JSON (NaN, never equal, is simply written again).
      if (whole !== undefined && whole.hit === hit && whole.storedAt === storedAt && whole.ageSeconds === ageSeconds && whole.fetchedAt === fetchedAt) return whole.json;
    }
    const cacheJson = cacheTemplated ? templatedCache(cache as Record<string, unknown>) : json(cache);
    const fetchedAtJson = json(fetchedAt);
    if (cacheJson === undefined || fetchedAtJson === undefined) return undefined;
    const text = `${prefix.json}${cacheJson},"fetchedAt":${fetchedAtJson}}`;
    if (cacheTemplated) {
      const { hit, storedAt, ageSeconds } = cache as Record<string, unknown>;
      prefix.whole = { hit, storedAt, ageSeconds, fetchedAt, json: text };
    }
    return text;
  };

  const templatedCache = (cache: Record<string, unknown>): string | undefined => {
    const hit = json(cache.hit);
    const storedAt = json(cache.storedAt);
    const ageSeconds = json(cache.ageSeconds);
    // A field without JSON is left out by JSON.stringify: let it write the whole object then.
    if (hit === undefined || storedAt === undefined || ageSeconds === undefined) return JSON.stringify(cache);
    return `{"hit":${hit},"storedAt":${storedAt},"ageSeconds":${ageSeconds}}`;
  };

  /**
   * The last summary written per observable object, and its JSON: a cached observable asked
   * again gives a summary of the same observable, input, verdict, deciders and per-provider
   * entries (new objects, the same values), whose JSON is then the string kept rather than one
   * built again and compared, character by character, with the last answer's.
   */
  const summaries = new WeakMap<object, KeptSummary>();

  /** The kept JSON of a summary whose every value is === the kept one's, keys in the same order. */
  const keptSummary = (value: Record<string, unknown>): KeptSummary | undefined => {
    const observable = value.observable;
    if (observable === null || typeof observable !== 'object') return undefined;
    const kept = summaries.get(observable);
    if (kept === undefined || kept.input !== value.input || kept.verdict !== value.verdict) return undefined;
    const { decidedBy, providers } = value;
    if (!Array.isArray(decidedBy) || decidedBy.length !== kept.decidedBy.length) return undefined;
    for (let i = 0; i < decidedBy.length; i++) if (!(i in decidedBy) || decidedBy[i] !== kept.decidedBy[i]) return undefined;
    if (!isPlainObject(providers)) return undefined;
    const names = Object.keys(providers);
    if (names.length !== kept.providers.length) return undefined;
    for (let i = 0; i < names.length; i++) {
      const was = kept.providers[i] as KeptSummary['providers'][number];
      const entry = providers[names[i] as string];
      if (names[i] !== was.name || !isPlainObject(entry) || !hasKeys(entry, SUMMARY_PROVIDER_KEYS)) return undefined;
      if (entry.status !== was.status || entry.verdict !== was.verdict || entry.confidence !== was.confidence) return undefined;
    }
    return kept;
  };

  /** A summary from its template, or JSON.stringify's output for anything of another shape. */
  const summary = (value: unknown): string | undefined => {
    if (!isPlainObject(value) || !hasKeys(value, SUMMARY_KEYS)) return JSON.stringify(value);
    const kept = keptSummary(value);
    if (kept !== undefined) return kept.json;
    const text = templatedSummary(value);
    const observable = value.observable;
    const { decidedBy, providers } = value;
    // Kept only for what keptSummary can check again: an observable object, decidedBy an array,
    // providers a plain object, and primitives elsewhere (an object could change while ===).
    if (
      text !== undefined &&
      observable !== null &&
      typeof observable === 'object' &&
      Array.isArray(decidedBy) &&
      isPlainObject(providers) &&
      isPrimitive(value.input) &&
      isPrimitive(value.verdict) &&
      Object.values(providers).every((entry) => isPlainObject(entry) && isPrimitive(entry.status) && isPrimitive(entry.verdict) && isPrimitive(entry.confidence))
    ) {
      summaries.set(observable, {
        input: value.input,
        verdict: value.verdict,
        decidedBy: [...decidedBy],
        providers: Object.keys(providers).map((name) => {
          const entry = providers[name] as Record<string, unknown>;
          return { name, status: entry.status, verdict: entry.verdict, confidence: entry.confidence };
        }),
        json: text,
      });
    }
    return text ?? JSON.stringify(value);
  };

  /** A summary (SUMMARY_KEYS) from its template, or undefined when a part does not fit it. */
  const templatedSummary = (value: Record<string, unknown>): string | undefined => {
    const { decidedBy, providers } = value;
    let decided: string | undefined = '[';
    if (Array.isArray(decidedBy)) {
      for (let i = 0; i < decidedBy.length && decided !== undefined; i++) {
        const name: unknown = decidedBy[i];
        decided = typeof name === 'string' ? decided + (i === 0 ? '' : ',') + json(name) : undefined;
      }
      if (decided !== undefined) decided += ']';
    } else {
      decided = undefined;
    }
    let perProvider: string | undefined = '{';
    if (isPlainObject(providers)) {
      for (const name of Object.keys(providers)) {
        const entry = providers[name];
        if (!isPlainObject(entry) || !hasKeys(entry, SUMMARY_PROVIDER_KEYS)) {
          perProvider = undefined;
          break;
        }
        const parts = [json(entry.status), json(entry.verdict), json(entry.confidence)];
        if (parts.includes(undefined)) {
          perProvider = undefined;
          break;
        }
        perProvider += `${perProvider.length === 1 ? '' : ','}${quote(name)}:{"status":${parts[0]},"verdict":${parts[1]},"confidence":${parts[2]}}`;
      }
      if (perProvider !== undefined) perProvider += '}';
    } else {
      perProvider = undefined;
    }
    const parts = [objectOrNull(value.observable), json(value.input), json(value.verdict)];
    if (decided === undefined || perProvider === undefined || parts.includes(undefined)) return undefined;
    return `{"observable":${parts[0]},"input":${parts[1]},"verdict":${parts[2]},"decidedBy":${decided},"providers":${perProvider}}`;
  };

  const record = (value: unknown): string => {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || 'toJSON' in value) return JSON.stringify(value) ?? 'null';
    if (hasKeys(value, RECORD_KEYS)) {
      const text = templated(value as Record<string, unknown>);
      if (text !== undefined) return text;
    }
    let out = '{';
    for (const key of Object.keys(value)) {
      const field = (value as Record<string, unknown>)[key];
      const text = SHARED_FIELDS.has(key) && field !== null && typeof field === 'object' ? shared(field) : JSON.stringify(field);
      // JSON.stringify leaves out properties whose value has no JSON (undefined, functions).
      if (text === undefined) continue;
      out += (out.length === 1 ? '' : ',') + quote(key) + ':' + text;
    }
    return out + '}';
  };

  /**
   * The parts (records', then summaries' JSON) of the last `{ records, summaries }` answer, and
   * that answer's JSON: the same cached observables asked again within the same second give the
   * same parts (a record's the very string kept in its prefix), and the answer is then that
   * same string rather than a new 4 KB one built and flattened again.
   */
  let lastParts: string[] = [];
  let lastRecordCount = -1;
  let lastAnswer = '';

  const recordsAndSummaries = (records: unknown[], summaries: unknown[]): string => {
    const parts = new Array<string>(records.length + summaries.length);
    let same = lastRecordCount === records.length && lastParts.length === parts.length;
    for (let i = 0; i < records.length; i++) {
      const text = record(records[i]);
      parts[i] = text;
      if (same && text !== lastParts[i]) same = false;
    }
    for (let i = 0; i < summaries.length; i++) {
      const text = summary(summaries[i]) ?? 'null';
      parts[records.length + i] = text;
      if (same && text !== lastParts[records.length + i]) same = false;
    }
    if (same) return lastAnswer;
    lastAnswer = `{"records":[${parts.slice(0, records.length).join(',')}],"summaries":[${parts.slice(records.length).join(',')}]}`;
    lastParts = parts;
    lastRecordCount = records.length;
    return lastAnswer;
  };

  return (answer) => {
    if (answer === null || typeof answer !== 'object' || Array.isArray(answer) || 'toJSON' in answer) return JSON.stringify(answer);
    if (hasKeys(answer, ANSWER_KEYS)) {
      const { records, summaries } = answer as Record<string, unknown>;
      if (Array.isArray(records) && Array.isArray(summaries)) return recordsAndSummaries(records, summaries);
    }
    let out = '{';
    for (const key of Object.keys(answer)) {
      const value = (answer as Record<string, unknown>)[key];
      const text =
        key === 'records' && Array.isArray(value)
          ? `[${value.map(record).join(',')}]`
          : key === 'summaries' && Array.isArray(value)
            ? `[${value.map((item: unknown) => summary(item) ?? 'null').join(',')}]`
            : JSON.stringify(value);
      if (text === undefined) continue;
      out += (out.length === 1 ? '' : ',') + quote(key) + ':' + text;
    }
    return out + '}';
  };
}
