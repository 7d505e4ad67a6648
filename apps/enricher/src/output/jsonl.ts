import type { ResultRecord } from '@x/core';
import type { OutputFormatter } from './enriched-item.js';
import { CACHE_KEYS, hasKeys, RECORD_KEYS } from './record-shape.js';

/** One result record per line (JSON Lines). Every line is complete, so a cut-off run is still valid. */
export function formatJsonl(records: readonly ResultRecord[]): string {
  let text = '';
  for (const record of records) text += recordJson(record) + '\n';
  return text;
}

export function createJsonlFormatter(): OutputFormatter {
  return { start: () => '', item: (item) => formatJsonl(item.records), end: () => '' };
}

// The fields of the indicator entity a provider writes (the vt3 and vt2 mappings, provider-http).
const ENTITY_KEYS = ['type', 'name', 'observable', 'verdict', 'confidence', 'fields'];

/** An object JSON.stringify writes by its properties (no toJSON, whose result could depend on the key it is called with). */
const isObjectJson = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !('toJSON' in value);

/** JSON.stringify's output for a primitive; undefined for what it leaves out (undefined, functions, symbols) and for objects. */
function primitiveJson(value: unknown): string | undefined {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  // Number#toString is the algorithm JSON.stringify uses for finite numbers; the others are null.
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return undefined;
}

/**
 * primitiveJson for the engine's and the providers' small vocabularies (status, verdict,
 * confidence, an entity's type): their JSON written out, without a JSON.stringify call each
 * (four or five a record). A switch compares strings by value, so any equal string matches.
 */
function wordJson(value: unknown): string | undefined {
  switch (value) {
    case 'ok':
      return '"ok"';
    case 'malicious':
      return '"malicious"';
    case 'suspicious':
      return '"suspicious"';
    case 'benign':
      return '"benign"';
    case 'unknown':
      return '"unknown"';
    case 'not_found':
      return '"not_found"';
    case 'pending':
      return '"pending"';
    case 'indicator':
      return '"indicator"';
    case 'low':
      return '"low"';
    case 'medium':
      return '"medium"';
    case 'high':
      return '"high"';
    default:
      return primitiveJson(value);
  }
}

/** A field's JSON: a primitive's, or an object's without toJSON; undefined when the template cannot write it. */
function fieldJson(value: unknown): string | undefined {
  return isObjectJson(value) ? JSON.stringify(value) : primitiveJson(value);
}

// The provider descriptor is one object per instance, the same in every record it writes.
let lastProvider: unknown;
let lastProviderJson: string | undefined;
// Records of one millisecond share their fetchedAt (a few misses a millisecond): an equal string has the same JSON.
let lastFetchedAt: unknown;
let lastFetchedAtJson: string | undefined;

/**
 * `JSON.stringify(record)`, byte for byte, cheaper for a record of the engine's shape (issue 16:
 * the formatter was ~14 µs of a miss). A provider's indicator entity carries the record's
 * `extracted` object again as its `fields` (the same object), so JSON.stringify wrote it twice;
 * here it is written once and its text used in both places. The record is a template of its keys,
 * and the provider's JSON is kept while records come from the same provider object. Anything of
 * another shape (other keys or key order, toJSON, a field JSON leaves out) is JSON.stringify's.
 *
 * Unlike `serve`'s answer serializer (server/serialize.ts), nothing is kept per outcome object:
 * on a miss every object is new, and a WeakMap entry per record would only add to the GC's work.
 */
export function recordJson(record: ResultRecord): string {
  if (isObjectJson(record) && hasKeys(record, RECORD_KEYS)) {
    try {
      const text = templated(record as unknown as Record<string, unknown>);
      if (text !== undefined) return text;
    } catch {
      // What JSON.stringify cannot write (a cycle, a BigInt) fails below with its own message.
    }
  }
  return JSON.stringify(record);
}

function templated(record: Record<string, unknown>): string | undefined {
  const { extracted, provider } = record;
  if (provider !== lastProvider || lastProviderJson === undefined) {
    lastProviderJson = fieldJson(provider);
    lastProvider = provider;
  }
  if (record.fetchedAt !== lastFetchedAt || lastFetchedAtJson === undefined) {
    lastFetchedAtJson = primitiveJson(record.fetchedAt);
    lastFetchedAt = record.fetchedAt;
  }
  const extractedJson = fieldJson(extracted);
  const observable = fieldJson(record.observable);
  const entities = entitiesJson(record.entities, extracted, extractedJson, record.observable, observable);
  const input = primitiveJson(record.input);
  const status = wordJson(record.status);
  const verdict = wordJson(record.verdict);
  const confidence = wordJson(record.confidence);
  const reasons = fieldJson(record.reasons);
  const error = fieldJson(record.error);
  const cache = cacheJson(record.cache);
  const fetchedAt = lastFetchedAtJson;
  if (
    lastProviderJson === undefined ||
    extractedJson === undefined ||
    entities === undefined ||
    observable === undefined ||
    input === undefined ||
    status === undefined ||
    verdict === undefined ||
    confidence === undefined ||
    reasons === undefined ||
    error === undefined ||
    cache === undefined ||
    fetchedAt === undefined
  ) {
    return undefined;
  }
  return (
    `{"observable":${observable},"input":${input},"provider":${lastProviderJson},"status":${status},"verdict":${verdict},"confidence":${confidence},` +
    `"reasons":${reasons},"extracted":${extractedJson},"entities":${entities},"error":${error},"cache":${cache},"fetchedAt":${fetchedAt}}`
  );
}

/**
 * The entities' JSON, an entity that holds the record's `extracted` as its fields written with
 * `extractedJson`, and its observable, when it is the record's or a copy of it, with `observableJson`.
 */
function entitiesJson(entities: unknown, extracted: unknown, extractedJson: string | undefined, observable: unknown, observableJson: string | undefined): string | undefined {
  if (!Array.isArray(entities) || 'toJSON' in entities) return undefined;
  let text = '[';
  for (let i = 0; i < entities.length; i++) {
    const entity: unknown = entities[i];
    // Anything but a plain object (a hole, undefined, toJSON) is left to JSON.stringify of the whole record.
    if (!isObjectJson(entity) || Array.isArray(entity)) return undefined;
    let json: string | undefined;
    if (extractedJson !== undefined && entity.fields === extracted && hasKeys(entity, ENTITY_KEYS)) {
      const type = wordJson(entity.type);
      const name = primitiveJson(entity.name);
      const entityObservable = observableJson !== undefined && sameObservable(entity.observable, observable) ? observableJson : fieldJson(entity.observable);
      const verdict = wordJson(entity.verdict);
      const confidence = wordJson(entity.confidence);
      if (type === undefined || name === undefined || entityObservable === undefined || verdict === undefined || confidence === undefined) return undefined;
      json = `{"type":${type},"name":${name},"observable":${entityObservable},"verdict":${verdict},"confidence":${confidence},"fields":${extractedJson}}`;
    } else {
      json = JSON.stringify(entity);
    }
    text += i === 0 ? json : `,${json}`;
  }
  return `${text}]`;
}

const OBSERVABLE_KEYS = ['type', 'value'];

/**
 * Whether `a` is written as `b` is: the same object, or both plain objects of string `type` and
 * `value` only, equal (the indicator entity's copy of the record's observable).
 */
function sameObservable(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isObjectJson(a) || !isObjectJson(b) || Array.isArray(a) || Array.isArray(b)) return false;
  const { type, value } = a;
  return typeof type === 'string' && typeof value === 'string' && type === b.type && value === b.value && hasKeys(a, OBSERVABLE_KEYS) && hasKeys(b, OBSERVABLE_KEYS);
}

function cacheJson(cache: unknown): string | undefined {
  if (!isObjectJson(cache) || Array.isArray(cache) || !hasKeys(cache, CACHE_KEYS)) return fieldJson(cache);
  const hit = primitiveJson(cache.hit);
  const storedAt = primitiveJson(cache.storedAt);
  const ageSeconds = primitiveJson(cache.ageSeconds);
  // A field without JSON is left out by JSON.stringify: let it write the whole object then.
  if (hit === undefined || storedAt === undefined || ageSeconds === undefined) return JSON.stringify(cache);
  return `{"hit":${hit},"storedAt":${storedAt},"ageSeconds":${ageSeconds}}`;
}
