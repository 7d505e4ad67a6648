import { UpstreamError, type Entity, type Observable, type ObservableType, type ProviderOutcome, type Reason } from '@x/core';
import * as z from 'zod';
import { groupFields, parseDepthAttributes, refsFromCollection, refsFromObject, relatedEntities, RULE_FACTS, ruleFacts, type ExtractGroup, type RelatedRef } from './depth.js';
import { evaluateMaliceRules, type MaliceRule, type RuleDecision } from './malice-rules.js';

/** The v3 object collections this provider reads. */
export type V3Collection = 'ip_addresses' | 'domains' | 'files' | 'urls';

/** Where an observable is looked up, and what the answer must be. */
export interface V3Lookup {
  collection: V3Collection;
  /** The object id as sent in the path (before percent-encoding). */
  id: string;
  /** The `data.type` VirusTotal answers with. */
  objectType: 'ip_address' | 'domain' | 'file' | 'url';
}

const LOOKUPS: Record<ObservableType, Omit<V3Lookup, 'id'>> = {
  ipv4: { collection: 'ip_addresses', objectType: 'ip_address' },
  ipv6: { collection: 'ip_addresses', objectType: 'ip_address' },
  domain: { collection: 'domains', objectType: 'domain' },
  md5: { collection: 'files', objectType: 'file' },
  sha1: { collection: 'files', objectType: 'file' },
  sha256: { collection: 'files', objectType: 'file' },
  url: { collection: 'urls', objectType: 'url' },
};

/** The GUI page kind per object type: `https://www.virustotal.com/gui/<kind>/<id>`. */
const GUI_KIND = { ip_address: 'ip-address', domain: 'domain', file: 'file', url: 'url' } as const;
const GUI_BASE = 'https://www.virustotal.com/gui';

/**
 * A URL's v3 identifier: the URL in unpadded base64url (RFC 4648 §5). VirusTotal also accepts
 * the SHA-256 of its own canonical form, which we cannot compute exactly, so we send this one.
 */
export function urlIdentifier(url: string): string {
  return Buffer.from(url, 'utf8').toString('base64url');
}

/** The collection and id an observable is looked up under. */
export function lookupFor(observable: Observable): V3Lookup {
  const { collection, objectType } = LOOKUPS[observable.type];
  // Written out rather than spread from LOOKUPS (same keys, same order): a spread into a literal
  // with one more key took ~3 µs a miss in the misses bench's profile (issue 16).
  return { collection, objectType, id: observable.type === 'url' ? urlIdentifier(observable.value) : observable.value };
}

const MAX_DATE_MS = 8.64e15;
/** 10000-01-01T00:00:00.000Z: from here on `toISOString` writes a six-digit, signed year. */
const YEAR_10000_MS = 253_402_300_800_000;
const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/**
 * Unix seconds -> ISO 8601 UTC (`2020-09-02T14:02:37.000Z`); null for missing or unusable
 * values (VirusTotal sends 0 or omits the field when it has no date).
 */
export function unixToIso(seconds: number | null | undefined): string | null {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return null;
  const ms = seconds * 1000;
  // Past Date's range (TimeClip: more than 8.64e15 ms) a Date is invalid: tested here instead of
  // asking the Date for its time (one or more of these per miss).
  if (ms > MAX_DATE_MS) return null;
  return ms < YEAR_10000_MS ? isoOfPositiveMs(ms) : new Date(ms).toISOString();
}

/**
 * What `new Date(ms).toISOString()` writes for 0 < ms < YEAR_10000_MS, without the Date: ~0.25
 * against ~1.1 µs, one to three per miss (issue 16). The Date truncates to whole milliseconds
 * (TimeClip), as `Math.floor` does for these; the calendar date is Howard Hinnant's
 * `civil_from_days` (proleptic Gregorian, as ECMAScript's). mapping.test.ts compares it with
 * `toISOString` over random and edge values.
 */
function isoOfPositiveMs(ms: number): string {
  const time = Math.floor(ms);
  const days = Math.floor(time / DAY_MS);
  let rest = time - days * DAY_MS;
  // Days since 0000-03-01, counted in 400-year eras of 146,097 days (March first: the leap day ends a year).
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const marchMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * marchMonth + 2) / 5) + 1;
  const month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9;
  const year = era * 400 + yearOfEra + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const secs = Math.floor(rest / 1000);
  rest -= secs * 1000;
  return `${TWO_DIGITS[Math.floor(year / 100)]}${TWO_DIGITS[year % 100]}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[secs]}.${THREE_DIGITS[rest]}Z`;
}

// The response schemas are built on a lookup's first upstream answer, not at import: a cached
// lookup never parses a body, and building them is milliseconds of every cold start (issue 16).
function buildSchemas() {
  const zCountEntry = z.looseObject({ value: z.string(), count: z.number() });

  const zPopularThreatClassification = z.looseObject({
    suggested_threat_label: z.string().nullish(),
    popular_threat_name: z.array(zCountEntry).nullish(),
    popular_threat_category: z.array(zCountEntry).nullish(),
  });

  /**
   * The attributes this provider reads, each optional and nullable (2019 objects lack the
   * analysis, search hits lack more); anything else passes through untouched. A present field
   * of the wrong type fails the parse: it means the body is not what we think it is.
   */
  const zAttributes = z.looseObject({
    last_analysis_stats: z.record(z.string(), z.number()).nullish(),
    last_analysis_date: z.number().nullish(),
    reputation: z.number().nullish(),
    tags: z.array(z.string()).nullish(),
    country: z.string().nullish(),
    as_owner: z.string().nullish(),
    network: z.string().nullish(),
    categories: z.record(z.string(), z.string()).nullish(),
    registrar: z.string().nullish(),
    creation_date: z.number().nullish(),
    type_description: z.string().nullish(),
    size: z.number().nullish(),
    first_submission_date: z.number().nullish(),
    md5: z.string().nullish(),
    sha1: z.string().nullish(),
    sha256: z.string().nullish(),
    popular_threat_classification: zPopularThreatClassification.nullish(),
    url: z.string().nullish(),
    last_final_url: z.string().nullish(),
    title: z.string().nullish(),
  });

  const zV3Object = z.looseObject({
    type: z.string(),
    id: z.string(),
    attributes: zAttributes,
    relationships: z.record(z.string(), z.unknown()).optional(),
  });

  return {
    zPopularThreatClassification,
    zV3Object,
    /** An object response: `{ data: {type, id, attributes} }`, or the bare object (vt-py dumps, search hits). */
    zV3ObjectResponse: z.union([z.looseObject({ data: zV3Object }), zV3Object]),
    /** VirusTotal's error envelope: `{"error": {"code": "NotFoundError", "message": "..."}}`. */
    zV3ErrorEnvelope: z.looseObject({
      error: z.looseObject({ code: z.string(), message: z.string().optional() }),
    }),
  };
}

type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;
/** The response schemas, built once on first use. */
function schemas(): Schemas {
  built ??= buildSchemas();
  return built;
}

export type V3Object = z.output<Schemas['zV3Object']>;
export type V3ErrorEnvelope = z.output<Schemas['zV3ErrorEnvelope']>;

/** The `{code, message}` of an error body, or undefined when the body is not an error envelope. */
export function parseV3Error(body: unknown): V3ErrorEnvelope['error'] | undefined {
  // Every not-found answer comes through here (core's client reads the code of each non-2xx
  // body): a plain JSON envelope with a string code (and message) is its own answer, the values
  // zod's copy would hold; anything else goes through the schema.
  const error = plain(body) ? body.error : undefined;
  if (plain(error) && typeof error.code === 'string' && (error.message === undefined || typeof error.message === 'string')) return error as V3ErrorEnvelope['error'];
  const parsed = schemas().zV3ErrorEnvelope.safeParse(body);
  return parsed.success ? parsed.data.error : undefined;
}

/**
 * Reads the object out of a response body, with or without the `data` wrapper.
 * `shapeChecked`: a `{data: object}` body whose shape `shapeCheck` vouches for is returned as
 * the body's own object instead of zod's copy (for callers that only read it, and do not need
 * zod's key order: mapV3Object without the depth attributes). Every other body, and every
 * failure, goes through the schema, so results and messages are zod's.
 * @throws UpstreamError (bad_response) when the body is not a v3 object of the expected type.
 */
export function parseV3Object(body: unknown, expectedType: V3Lookup['objectType'], shapeChecked = false): V3Object {
  // Every real answer is `{data: object}`: parse that object alone first, which skips the union
  // and the envelope's copy (issue 16: this parse is a tenth of a miss's mapping). Anything
  // else, and every failure, goes through the whole schema, so results and messages are its.
  const data = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { data?: unknown }).data : undefined;
  if (shapeChecked && data !== undefined) {
    const object = shapeCheck(data);
    if (object) return checkedType(object, expectedType);
  }
  const direct = data === undefined ? undefined : schemas().zV3Object.safeParse(data);
  if (direct?.success) return checkedType(direct.data, expectedType);
  const parsed = schemas().zV3ObjectResponse.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // Union issues nest; name the first leaf problem so the message says what was wrong.
    const leaf = issue?.code === 'invalid_union' ? (issue.errors.flat()[0] ?? issue) : issue;
    const where = leaf?.path.length ? leaf.path.join('.') : '(root)';
    throw new UpstreamError('bad_response', `VirusTotal v3 answered with a body that is not a ${expectedType} object (${where}: ${leaf?.message ?? 'unexpected shape'}).`);
  }
  return checkedType('data' in parsed.data ? (parsed.data.data as V3Object) : (parsed.data as V3Object), expectedType);
}

// What `shapeCheck` accepts is a subset of what zV3Object accepts: plain JSON objects (as
// JSON.parse makes them) whose read attributes have their schema types; anything else, even a
// shape zod would accept (a class instance, a `__proto__` key, relationships), is left to zod.
const plain = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype && !Object.hasOwn(value, '__proto__');
const finite = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);
const nullishString = (value: unknown): boolean => value == null || typeof value === 'string';
const nullishNumber = (value: unknown): boolean => value == null || finite(value);

function recordOf(value: unknown, item: (value: unknown) => boolean): boolean {
  if (value == null) return true;
  if (!plain(value)) return false;
  for (const key in value) if (!item(value[key])) return false;
  return true;
}

function arrayOf(value: unknown, item: (value: unknown) => boolean): boolean {
  if (value == null) return true;
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (!item(value[i])) return false;
  return true;
}

const isString = (value: unknown): boolean => typeof value === 'string';
const countEntry = (value: unknown): boolean => plain(value) && typeof value.value === 'string' && finite(value.count);

/**
 * The object itself when zod's `zV3Object` would accept it and its copy would hold the same
 * values (issue 16: zod copies every attribute through `looseObject`'s catch-all, a third of the
 * mapping's cost); undefined when not sure, and the caller parses with zod.
 */
export function shapeCheck(data: unknown): V3Object | undefined {
  if (!plain(data) || typeof data.type !== 'string' || typeof data.id !== 'string' || data.relationships !== undefined) return undefined;
  const a = data.attributes;
  if (!plain(a)) return undefined;
  const ok =
    recordOf(a.last_analysis_stats, finite) &&
    nullishNumber(a.last_analysis_date) &&
    nullishNumber(a.reputation) &&
    arrayOf(a.tags, isString) &&
    nullishString(a.country) &&
    nullishString(a.as_owner) &&
    nullishString(a.network) &&
    recordOf(a.categories, isString) &&
    nullishString(a.registrar) &&
    nullishNumber(a.creation_date) &&
    nullishString(a.type_description) &&
    nullishNumber(a.size) &&
    nullishNumber(a.first_submission_date) &&
    nullishString(a.md5) &&
    nullishString(a.sha1) &&
    nullishString(a.sha256) &&
    threatClassification(a.popular_threat_classification) &&
    nullishString(a.url) &&
    nullishString(a.last_final_url) &&
    nullishString(a.title);
  return ok ? (data as V3Object) : undefined;
}

function threatClassification(value: unknown): boolean {
  if (value == null) return true;
  return plain(value) && nullishString(value.suggested_threat_label) && arrayOf(value.popular_threat_name, countEntry) && arrayOf(value.popular_threat_category, countEntry);
}

function checkedType(object: V3Object, expectedType: V3Lookup['objectType']): V3Object {
  if (object.type !== expectedType) {
    throw new UpstreamError('bad_response', `VirusTotal v3 answered with a ${JSON.stringify(object.type)} object where a ${expectedType} object was expected.`);
  }
  return object;
}

/** The entry with the highest count (the first one on a tie), or undefined for an empty list. */
function topEntry(entries: ReadonlyArray<{ value: string; count: number }> | null | undefined): { value: string; count: number } | undefined {
  let top: { value: string; count: number } | undefined;
  for (const entry of entries ?? []) if (top === undefined || entry.count > top.count) top = entry;
  return top;
}

/** The most common threat name (highest count in `popular_threat_name`), else the suggested label, else null. */
export function popularThreatName(classification: z.output<Schemas['zPopularThreatClassification']> | null | undefined): string | null {
  return topEntry(classification?.popular_threat_name)?.value ?? classification?.suggested_threat_label ?? null;
}

function sumCounts(stats: Record<string, number>): number {
  return Object.values(stats).reduce((total, count) => total + count, 0);
}

/**
 * Whether `encodeURIComponent(id)` is `id`: every character is one it leaves alone
 * (A-Z a-z 0-9 - _ . ! ~ * ' ( )), as in every IPv4 address and most domains. A loop over the
 * characters instead of the call's new string (~0.1-0.2 µs a miss).
 */
function uriComponentSafe(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const alnum = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
    // - . _ ~ ! * ' ( )
    if (!alnum && c !== 0x2d && c !== 0x2e && c !== 0x5f && c !== 0x7e && c !== 0x21 && c !== 0x2a && c !== 0x27 && c !== 0x28 && c !== 0x29) return false;
  }
  return true;
}

/** The GUI page of the object; null when there is no id the GUI accepts. */
function guiUrl(lookup: V3Lookup, object: V3Object, observable: Observable): string | null {
  const kind = GUI_KIND[lookup.objectType];
  let id: string | null = observable.value;
  if (lookup.objectType === 'file') id = /^[0-9a-f]{64}$/i.test(object.id) ? object.id.toLowerCase() : observable.value;
  if (lookup.objectType === 'url') {
    // URL objects are keyed by the SHA-256 of the canonical URL; analysis-style ids embed it.
    id = /^[0-9a-f]{64}$/i.test(object.id) ? object.id : (/^u-([0-9a-f]{64})-\d+$/i.exec(object.id)?.[1] ?? null);
  }
  if (id === null) return null;
  return `${GUI_BASE}/${kind}/${uriComponentSafe(id) ? id : encodeURIComponent(id)}`;
}

/**
 * The extracted fields, named as on the Calseta VirusTotal page, plus the fields every type
 * carries. Every field of the object's type is present; what VirusTotal did not send is null.
 */
export function extractFields(observable: Observable, object: V3Object, lookup: V3Lookup = lookupFor(observable)): Record<string, unknown> {
  const a = object.attributes;
  const stats = a.last_analysis_stats ?? null;
  // Built by assignment in the output's key order (the counts first, the type's own fields, the
  // shared ones last) rather than by spreading shared parts: no object per part on the miss path.
  const fields: Record<string, unknown> = {
    malicious_count: stats === null ? null : (stats.malicious ?? 0),
    suspicious_count: stats === null ? null : (stats.suspicious ?? 0),
  };
  switch (lookup.objectType) {
    case 'ip_address':
      fields.harmless_count = stats === null ? null : (stats.harmless ?? 0);
      fields.country = a.country ?? null;
      fields.as_owner = a.as_owner ?? null;
      fields.network = a.network ?? null;
      break;
    case 'domain':
      fields.categories = a.categories ?? null;
      fields.registrar = a.registrar ?? null;
      fields.creation_date = unixToIso(a.creation_date);
      break;
    case 'file':
      fields.type_description = a.type_description ?? null;
      fields.file_size = a.size ?? null;
      fields.first_submission_date = unixToIso(a.first_submission_date);
      fields.popular_threat_name = popularThreatName(a.popular_threat_classification);
      // As sent: some published captures pair hashes of different files (see test fixtures).
      fields.md5 = a.md5 ?? null;
      fields.sha1 = a.sha1 ?? null;
      fields.sha256 = a.sha256 ?? null;
      break;
    case 'url':
      fields.harmless_count = stats === null ? null : (stats.harmless ?? 0);
      fields.url = a.url ?? null;
      fields.final_url = a.last_final_url ?? null;
      fields.title = a.title ?? null;
      fields.categories = a.categories ?? null;
      break;
  }
  fields.total_engines = stats === null ? null : sumCounts(stats);
  fields.last_analysis_date = unixToIso(a.last_analysis_date);
  fields.reputation = a.reputation ?? null;
  fields.tags = a.tags ?? null;
  fields.gui_url = guiUrl(lookup, object, observable);
  return fields;
}

const NO_ANALYSIS: Reason = {
  rule: 'no_analysis_stats',
  message: 'VirusTotal knows this object but sent no last_analysis_stats (no engine analysis), so there is nothing to judge; verdict unknown.',
};

const NOT_ANALYSED_YET: Reason = {
  rule: 'no_engine_results',
  message: 'VirusTotal knows this object but no engine has reported on it yet (queued for analysis); ask again later.',
};

/**
 * True for a file or URL whose stats exist but are all zero: VirusTotal queued it for analysis
 * and no engine has answered yet. Only files and URLs are ever queued (they are submitted for
 * scanning); IPs and domains are not, so all-zero stats there are a settled answer, and calling
 * them pending (never cached) would re-fetch them on every lookup, forever.
 */
function isAwaitingAnalysis(objectType: V3Lookup['objectType'], object: V3Object): boolean {
  if (objectType !== 'file' && objectType !== 'url') return false;
  const stats = object.attributes.last_analysis_stats;
  return stats != null && Object.values(stats).every((count) => count === 0);
}

/** Threat names and categories from `popular_threat_classification`, with their engine counts. */
export function threatEntities(observable: Observable, object: V3Object): Entity[] {
  const classification = object.attributes.popular_threat_classification;
  if (!classification) return [];
  const entities: Entity[] = [];
  for (const [list, category] of [
    [classification.popular_threat_name, 'threat_name'],
    [classification.popular_threat_category, 'threat_category'],
  ] as const) {
    for (const entry of list ?? []) {
      entities.push({ type: 'ttp', name: entry.value, category, count: entry.count, observable: { type: observable.type, value: observable.value } });
    }
  }
  return entities;
}

const FACTS = new Set<string>(RULE_FACTS);
const NO_ENTITIES: readonly Entity[] = [];
const readsFacts = new WeakMap<readonly MaliceRule[], boolean>();
let lastRules: readonly MaliceRule[] | undefined;
let lastReadsFacts = false;

/** Whether any condition of `rules` reads a rule fact (cached per rules list: options are parsed once). */
function rulesReadFacts(rules: readonly MaliceRule[]): boolean {
  // An instance maps every lookup with the same list: the last list's answer before the WeakMap.
  if (rules === lastRules) return lastReadsFacts;
  let answer = readsFacts.get(rules);
  if (answer === undefined) {
    answer = rules.some((rule) => [...(rule.all ?? []), ...(rule.any ?? [])].some((condition) => FACTS.has(condition.field)));
    readsFacts.set(rules, answer);
  }
  lastRules = rules;
  lastReadsFacts = answer;
  return answer;
}

/** What to read beyond the default fields (options `extract`, `ruleText`, `yaraRulesets`, `relationships`, `relatedObjects`). */
export interface DepthMapping {
  extract?: readonly ExtractGroup[];
  ruleText?: boolean;
  /** True when relationships were asked for: `extracted.relationships` is then present (maybe empty). */
  relationships?: boolean;
  /** Relationship collection bodies fetched with their own requests, by relationship name. */
  relatedBodies?: Readonly<Record<string, unknown>>;
  /** `/yara_rulesets/{id}` bodies fetched with their own requests (option `yaraRulesets`), by ruleset id; null when not found. */
  yaraRulesetBodies?: Readonly<Record<string, unknown>>;
}

/**
 * The note a clean result carries: how many engines analysed it and found nothing, and how
 * many could not analyse it (unsupported type, timeout), so "benign" is never bare. `total`:
 * the sum of the counts (the mapping passes the `total_engines` it has already added up).
 */
export function cleanNote(stats: Record<string, number>, analysedOn: string | null, total: number = sumCounts(stats)): Reason {
  const harmless = stats.harmless ?? 0;
  const undetected = stats.undetected ?? 0;
  const flagged = (stats.malicious ?? 0) + (stats.suspicious ?? 0);
  const skipped = total - harmless - undetected - flagged;
  const saw = total - skipped;
  const when = analysedOn ? ` on ${analysedOn.slice(0, 10)}` : '';
  const skippedText = skipped > 0 ? `; ${skipped} more could not analyse it (unsupported type, timeout or failure)` : '';
  return {
    rule: 'clean_note',
    message: `${harmless + undetected} of the ${saw} engines that analysed it${when} found nothing (${harmless} harmless, ${undetected} undetected)${flagged ? `, ${flagged} flagged it` : ''}${skippedText}.`,
    values: { engines_analysed: saw, engines_found_nothing: harmless + undetected, harmless, undetected, flagged, not_analysed: skipped, last_analysis_date: analysedOn },
  };
}

/**
 * Maps a v3 object response (with or without the `data` wrapper) to a `found` outcome (or
 * `pending` for a queued file or URL no engine has reported on yet): fields, the verdict from
 * `rules`, an `indicator` entity and, for files, `ttp` entities; with `depth`, the chosen
 * `extract` groups and the related objects (`related` entities, `extracted.relationships`).
 * Rules read the extracted fields and the rule facts (depth.ts). `lookup` is `lookupFor(observable)`,
 * passed by a caller that has it already. Pure.
 * @throws UpstreamError (bad_response) when the body is not the expected object.
 */
export function mapV3Object(observable: Observable, body: unknown, rules: readonly MaliceRule[], depth: DepthMapping = {}, lookup: V3Lookup = lookupFor(observable)): ProviderOutcome {
  // The extra attributes are read only when a group or a rule needs them; without them the
  // object may be the body's own (shape-checked): nothing below copies or reorders it.
  const needFacts = rulesReadFacts(rules);
  const needExtra = needFacts || Boolean(depth.extract?.length);
  const object = parseV3Object(body, lookup.objectType, !needExtra);
  // A queued file or URL has all-zero stats: calling it benign would cache a clean verdict for
  // a day. Report it as pending (never cached) so the next lookup asks again.
  if (isAwaitingAnalysis(lookup.objectType, object)) return { kind: 'pending', reasons: [NOT_ANALYSED_YET], raw: body };
  const extracted = extractFields(observable, object, lookup);
  const stats = object.attributes.last_analysis_stats;
  const extra = needExtra ? parseDepthAttributes(object.attributes) : undefined;
  if (extra && !extra.ok) throw new UpstreamError('bad_response', `VirusTotal v3 answered with a body that is not a ${lookup.objectType} object (${extra.problem}).`);
  const fields = needFacts && extra?.ok ? { ...ruleFacts(extra.attributes), ...extracted } : extracted;
  const decision: RuleDecision = stats ? evaluateMaliceRules(rules, fields) : { verdict: 'unknown', confidence: null, reasons: [NO_ANALYSIS] };
  if (stats && decision.verdict === 'benign') decision.reasons.push(cleanNote(stats, extracted.last_analysis_date as string | null, extracted.total_engines as number));
  if (depth.extract?.length && extra?.ok) Object.assign(extracted, groupFields(lookup.objectType, extra.attributes, new Set(depth.extract), depth.ruleText ?? false, depth.yaraRulesetBodies));
  let related: readonly Entity[] = NO_ENTITIES;
  if (depth.relationships || depth.relatedBodies) {
    const refs: Record<string, RelatedRef[]> = refsFromObject(observable, object.relationships);
    for (const [name, collection] of Object.entries(depth.relatedBodies ?? {})) refs[name] = refsFromCollection(observable, collection);
    extracted.relationships = refs;
    related = relatedEntities(observable, refs);
  }
  const indicator: Entity = {
    type: 'indicator',
    name: `Indicator of ${observable.type}: ${observable.value}`,
    observable: { type: observable.type, value: observable.value },
    verdict: decision.verdict,
    confidence: decision.confidence,
    fields: extracted,
  };
  // No spread of the (usually empty) related list on the miss path.
  const entities = lookup.objectType === 'file' ? [indicator, ...threatEntities(observable, object), ...related] : related.length === 0 ? [indicator] : [indicator, ...related];
  return { kind: 'found', verdict: decision.verdict, confidence: decision.confidence, reasons: decision.reasons, extracted, entities, raw: body };
}
