import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type { Entity, Observable, ObservableType, ResultRecord } from '@x/core';
import type { EnrichedItem, OutputFormatter } from './enriched-item.js';
import { reasonText } from './reason-text.js';

/**
 * STIX 2.1 output. Observables become SCOs with the spec's deterministic ids (uuidv5 over the
 * ID-contributing properties in the STIX namespace), so the same observable has the same id in
 * every bundle and a TIP merges them. Indicators, malware, attack patterns, notes and
 * relationships get uuidv5 ids in x-enrich's own namespace, derived from their content, for the
 * same reason.
 *
 * Versioning (STIX 2.1 section 3.6): an object keeps its `created` in every version, and a new
 * version has a later `modified`. Since the same id comes out of every run (and every machine),
 * no run can know when the first version was made: `created` is one constant for every object,
 * STIX_CREATED. `modified` is the fetch time of the lookups an object's content comes from
 * (indicator, sample malware, detection note): a later lookup that changes the verdict, the
 * categories or the detections is a later version of the same object. Objects whose content is
 * fixed by their id (families, attack patterns, relationships, the identity) have one version:
 * `modified` is `created`.
 */

/** The namespace the STIX 2.1 spec (section 2.9) prescribes for SCO ids. */
export const STIX_SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
/** x-enrich's namespace for SDO and SRO ids. */
export const X_ENRICH_STIX_NAMESPACE = uuidv5('https://x-enrich.dev/stix', uuidv5.URL);

/** Any STIX object; the properties each type requires are set by the builders below. */
export type StixObject = { type: string; id: string; spec_version: '2.1' } & Record<string, unknown>;

export interface StixBundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

/**
 * The `created` of every object x-enrich writes (see the versioning rule above): a constant, so
 * the same id has the same `created` in every bundle, and before any lookup x-enrich can make.
 */
export const STIX_CREATED = '2024-01-01T00:00:00.000Z';
export const X_ENRICH_IDENTITY: StixObject = {
  type: 'identity',
  spec_version: '2.1',
  id: `identity--${uuidv5('identity|x-enrich', X_ENRICH_STIX_NAMESPACE)}`,
  created: STIX_CREATED,
  modified: STIX_CREATED,
  name: 'x-enrich',
  description: 'Verdicts produced by x-enrich provider plugins.',
  identity_class: 'system',
};

const SCO_TYPE: Record<ObservableType, string> = {
  ipv4: 'ipv4-addr',
  ipv6: 'ipv6-addr',
  domain: 'domain-name',
  url: 'url',
  md5: 'file',
  sha1: 'file',
  sha256: 'file',
};
const HASH_NAME: Partial<Record<ObservableType, string>> = { md5: 'MD5', sha1: 'SHA-1', sha256: 'SHA-256' };
// STIX's confidence scale, appendix A ("None/Low/Med/High").
const CONFIDENCE = { low: 15, medium: 50, high: 85 } as const;

const sdoId = (type: string, key: string) => `${type}--${uuidv5(`${type}|${key}`, X_ENRICH_STIX_NAMESPACE)}`;

// RFC 3986 section 2: unreserved, sub-delims and `%` (escapes: lone ones are fixed first), and
// what each component allows besides.
const UNRESERVED_SUB_DELIMS = "A-Za-z0-9\\-._~!$&'()*+,;=%";
const ALLOWED = {
  userinfo: new RegExp(`[^${UNRESERVED_SUB_DELIMS}:]`, 'gu'),
  path: new RegExp(`[^${UNRESERVED_SUB_DELIMS}:@/]`, 'gu'),
  queryOrFragment: new RegExp(`[^${UNRESERVED_SUB_DELIMS}:@/?]`, 'gu'),
};
// A `%` that does not start an escape is itself escaped, so existing escapes are kept, not doubled.
const LONE_PERCENT = /%(?![0-9A-Fa-f]{2})/g;
const utf8Escape = (char: string): string => {
  try {
    return encodeURIComponent(char);
  } catch {
    return '%EF%BF%BD'; // a lone surrogate has no UTF-8 form: U+FFFD, as TextEncoder writes it
  }
};
const encodeOutside = (text: string, disallowed: RegExp) => text.replace(LONE_PERCENT, '%25').replace(disallowed, utf8Escape);

/**
 * The observable's URL as an RFC 3986 URI, which STIX requires of `url.value`: every character
 * a component does not allow (`\ | ^ < > { } [ ] "`, a space, a second `#`, non-ASCII...) is
 * percent-encoded as UTF-8, component by component (RFC 3986 appendix B's split), and existing
 * escapes are kept. Core already lower-cased the scheme and punycoded the host. Neither WHATWG
 * `URL` (turns `\` into `/`, resolves `..`, leaves `|` and `^`) nor `encodeURI` (doubles `%`,
 * keeps a second `#`) gives that.
 */
export function toRfc3986Uri(url: string): string {
  const match = /^([^:/?#]+:)(\/\/[^/?#\\]*)?([^?#]*)(\?[^#]*)?(#.*)?$/su.exec(url);
  if (!match) return encodeOutside(url, ALLOWED.queryOrFragment);
  const [, scheme = '', authority = '', path = '', query = '', fragment = ''] = match;
  const at = authority.lastIndexOf('@');
  const encodedAuthority = at < 0 ? authority : `//${encodeOutside(authority.slice(2, at), ALLOWED.userinfo)}${authority.slice(at)}`;
  return (
    scheme +
    encodedAuthority +
    encodeOutside(path, ALLOWED.path) +
    (query && `?${encodeOutside(query.slice(1), ALLOWED.queryOrFragment)}`) +
    (fragment && `#${encodeOutside(fragment.slice(1), ALLOWED.queryOrFragment)}`)
  );
}

/** The value STIX records: URLs as RFC 3986 URIs, everything else as core normalised it. */
const stixValue = (observable: Observable) => (observable.type === 'url' ? toRfc3986Uri(observable.value) : observable.value);

/** The SCO for an observable, with its spec-deterministic id (computed over the encoded value). */
export function observableToSco(observable: Observable): StixObject {
  const type = SCO_TYPE[observable.type];
  const hashName = HASH_NAME[observable.type];
  const value = stixValue(observable);
  const contributing = hashName ? { hashes: { [hashName]: value } } : { value };
  // The spec hashes the RFC 8785 canonical JSON of the contributing properties; for these
  // single-key objects (ASCII once URLs are encoded) JSON.stringify produces exactly that.
  return { type, spec_version: '2.1', id: `${type}--${uuidv5(JSON.stringify(contributing), STIX_SCO_NAMESPACE)}`, ...contributing };
}

// The pattern grammar's string literal: `'` and `\` are the only escapes (STIXPattern.g4).
const quote = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** A STIX pattern matching exactly this observable, e.g. `[file:hashes.'SHA-256' = '…']` (URLs encoded as in the SCO). */
export function stixPattern(observable: Observable): string {
  const type = SCO_TYPE[observable.type];
  const hashName = HASH_NAME[observable.type];
  const path = hashName ? (hashName.includes('-') ? `hashes.'${hashName}'` : `hashes.${hashName}`) : 'value';
  return `[${type}:${path} = ${quote(stixValue(observable))}]`;
}

function timestamp(iso: string | null | undefined, fallback: string): string {
  if (!iso) return fallback;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? fallback : date.toISOString();
}

/** `modified` for content from lookups fetched at these times: the latest, never before `created`. */
const versionOf = (fetchedAt: readonly string[]): string => [STIX_CREATED, ...fetchedAt].sort().at(-1)!;

const ATTACK_ID = /^T\d{4}(\.\d{3})?$/;

const attackIdOf = (entity: Entity): string | undefined =>
  [entity.mitreId, entity.attackId, entity.externalId, entity.id, entity.name].find((value): value is string => typeof value === 'string' && ATTACK_ID.test(value));

/**
 * What a `ttp` entity names, read from the fields providers set:
 * - `attack-pattern`: a MITRE ATT&CK technique (an id like T1059, or `kind: attack-pattern`);
 * - `category`: a kind of malware the sample is, not a name (VirusTotal v3's
 *   `popular_threat_category`: `category: threat_category`, e.g. "downloader", "spyware");
 * - `detection`: the label one or more engines gave this one sample (VirusTotal v2's per-engine
 *   results, which carry their `engines`), e.g. "Unsafe", "malicious (high confidence)",
 *   "W32.AIDetectMalware", "Trojan:Win32/Qakbot.A!ml";
 * - `family`: a malware family (v3's `popular_threat_name`, VirusTotal's consensus over the
 *   engines, e.g. "qakbot"), and any other plugin's named threat.
 */
export type TtpKind = 'attack-pattern' | 'family' | 'category' | 'detection';

export function ttpKind(entity: Entity): TtpKind {
  if (attackIdOf(entity) || entity.kind === 'attack-pattern') return 'attack-pattern';
  if (entity.category === 'threat_category') return 'category';
  if (Array.isArray(entity.engines)) return 'detection';
  return 'family';
}

/**
 * A `ttp` entity naming an attack pattern or a malware family as a STIX attack-pattern or
 * malware (`is_family: true`). Categories and detection labels are about one sample, not
 * families: see sampleMalware and detectionNote.
 */
export function ttpToSdo(entity: Entity): StixObject {
  const attackId = attackIdOf(entity);
  // The content is fixed by the id (the name, the ATT&CK id): one version.
  const common = { spec_version: '2.1' as const, created: STIX_CREATED, modified: STIX_CREATED, created_by_ref: X_ENRICH_IDENTITY.id };
  if (attackId || entity.kind === 'attack-pattern') {
    const key = attackId ?? entity.name.toLowerCase();
    return {
      type: 'attack-pattern',
      id: sdoId('attack-pattern', key),
      ...common,
      name: entity.name,
      ...(attackId ? { external_references: [{ source_name: 'mitre-attack', external_id: attackId }] } : {}),
    };
  }
  return { type: 'malware', id: sdoId('malware', entity.name.toLowerCase()), ...common, name: entity.name, is_family: true };
}

/**
 * The sample itself as a malware instance (`is_family: false`) typed with the categories the
 * engines put it in (`malware_types`, STIX's open vocabulary has downloader, spyware, trojan,
 * ransomware, ...), pointing at the file (`sample_refs`). One per observable, whichever
 * providers gave categories, so its id derives from the SCO.
 */
export function sampleMalware(sco: StixObject, observable: Observable, categories: readonly string[], modified: string): StixObject {
  return {
    type: 'malware',
    spec_version: '2.1',
    id: sdoId('malware', `sample|${sco.id}`),
    created: STIX_CREATED,
    modified,
    created_by_ref: X_ENRICH_IDENTITY.id,
    // Not a family name: the sample is known by its hash (TIPs need some name to list it by).
    name: stixValue(observable),
    is_family: false,
    malware_types: [...new Set(categories.map((category) => category.toLowerCase()))].sort(),
    // STIX allows only file and artifact objects here.
    ...(sco.type === 'file' ? { sample_refs: [sco.id] } : {}),
  };
}

/**
 * Per-engine detection labels as a note on the observable (and its indicator), not as malware
 * objects. They mix verdict words ("Unsafe", "malicious (high confidence)"), heuristics
 * ("W32.AIDetectMalware"), generic signatures ("Trojan.GenericKD.464192") and each vendor's own
 * variant name: none is a family, and as `malware` objects named after them (ids derived from
 * the name) a TIP would merge every sample any engine called "Unsafe" into one "Unsafe family".
 * The note keeps what was said, and by which engines, without claiming more.
 */
export function detectionNote(provider: string, detections: readonly Entity[], refs: { sco: string; indicator?: string }, modified: string): StixObject {
  const lines = detections.map((entity) => {
    const engines = Array.isArray(entity.engines) ? entity.engines.map(String) : [];
    return `- ${entity.name}${engines.length ? ` (${engines.length} engine${engines.length === 1 ? '' : 's'}: ${engines.join(', ')})` : ''}`;
  });
  return {
    type: 'note',
    spec_version: '2.1',
    id: sdoId('note', `detections|${provider}|${refs.sco}`),
    created: STIX_CREATED,
    modified,
    created_by_ref: X_ENRICH_IDENTITY.id,
    abstract: `${provider}: ${detections.length} detection name${detections.length === 1 ? '' : 's'} from antivirus engines`,
    content: `Detection names ${provider} reported for this sample, each the label some antivirus engines gave it (not malware family names):\n${lines.join('\n')}`,
    object_refs: refs.indicator ? [refs.sco, refs.indicator] : [refs.sco],
  };
}

/** A relationship: its content is its id (type, source, target), so it has one version. */
function relationship(type: string, source: string, target: string): StixObject {
  return {
    type: 'relationship',
    spec_version: '2.1',
    id: sdoId('relationship', `${type}|${source}|${target}`),
    created: STIX_CREATED,
    modified: STIX_CREATED,
    created_by_ref: X_ENRICH_IDENTITY.id,
    relationship_type: type,
    source_ref: source,
    target_ref: target,
  };
}

const OBSERVABLE_TYPES = new Set<string>(Object.keys(SCO_TYPE));

/** The related observable of a `related` entity, when it is one STIX has an SCO for. */
function relatedObservable(entity: Entity): Observable | undefined {
  const candidate = entity.observable as { type?: unknown; value?: unknown } | undefined;
  if (!candidate || typeof candidate.value !== 'string' || !candidate.value || typeof candidate.type !== 'string' || !OBSERVABLE_TYPES.has(candidate.type)) return undefined;
  return { type: candidate.type as ObservableType, value: candidate.value };
}

/**
 * Related objects a provider found (`related` entities: VirusTotal v3's relationships, e.g.
 * contacted_domains, resolutions) as their SCOs, each with a `related-to` relationship from the
 * looked-up observable whose description names the provider's relationship. STIX has no
 * relationship types for most of VirusTotal's (contacted, itw, execution parent...), and
 * `related-to` is the one the spec allows between any two objects, so the name travels in the
 * description, and in the id, so two relationships to the same object stay two objects.
 */
export function relatedObjectsToStix(records: readonly ResultRecord[], sco: StixObject, now: string): StixObject[] {
  const objects: StixObject[] = [];
  for (const record of records) {
    const created = timestamp(record.fetchedAt, now);
    for (const entity of record.entities) {
      if (entity.type !== 'related') continue;
      const observable = relatedObservable(entity);
      if (!observable) continue;
      const target = observableToSco(observable);
      if (target.id === sco.id) continue;
      const name = typeof entity.relationship === 'string' ? entity.relationship : 'related';
      objects.push(target, {
        type: 'relationship',
        spec_version: '2.1',
        id: sdoId('relationship', `related-to|${name}|${sco.id}|${target.id}`),
        created,
        modified: created,
        created_by_ref: X_ENRICH_IDENTITY.id,
        relationship_type: 'related-to',
        description: `${record.provider.name}: ${name} (${String(entity.source ?? record.provider.plugin)} relationship)`,
        source_ref: sco.id,
        target_ref: target.id,
      });
    }
  }
  return objects;
}

function describe(records: readonly ResultRecord[], decidedBy: readonly string[]): string {
  return records
    .filter((record) => decidedBy.includes(record.provider.name))
    .map((record) => `${record.provider.name}: ${reasonText(record) || record.verdict}`)
    .join('\n');
}

/**
 * The STIX objects for one input: its SCO; for a malicious or suspicious summary an indicator
 * (`based-on` the SCO); for each `ttp` entity naming a family or an attack pattern a malware or
 * attack-pattern object, and for malware categories one malware instance of the sample, each
 * of which the indicator `indicates` (or that is `related-to` the SCO when there is no
 * indicator); per-engine detection labels as a note on the SCO and indicator (see ttpKind).
 * `now` stands in for timestamps when no record says when it was fetched.
 */
export function itemToStixObjects(item: EnrichedItem, now: string): StixObject[] {
  const { summary, records } = item;
  // An input that was not a valid observable has nothing to describe in STIX.
  const observable = summary.observable;
  if (!observable) return [];
  const sco = observableToSco(observable);
  const objects: StixObject[] = [sco];
  const decisive = records.filter((record) => summary.decidedBy.includes(record.provider.name));
  const fetched = decisive.map((record) => timestamp(record.fetchedAt, now)).sort();
  // The verdict holds from the first lookup that decided it. The indicator's version is the
  // latest lookup of any provider (not only the deciding ones): the verdict is the worst of all,
  // so a provider that re-fetched and changed its mind changed the indicator, and its later
  // fetch makes the new version later. Records without a fetch (errors, skips) changed nothing.
  const validFrom = fetched[0] ?? now;
  const lookups = records.flatMap((record) => (record.fetchedAt ? [timestamp(record.fetchedAt, now)] : []));
  const modified = versionOf(lookups.length ? lookups : [now]);

  let indicatorId: string | undefined;
  if (summary.verdict === 'malicious' || summary.verdict === 'suspicious') {
    const pattern = stixPattern(observable);
    const confidences = decisive.map((record) => (record.confidence ? CONFIDENCE[record.confidence] : 0));
    const confidence = Math.max(0, ...confidences);
    indicatorId = sdoId('indicator', pattern);
    objects.push({
      type: 'indicator',
      spec_version: '2.1',
      id: indicatorId,
      created: STIX_CREATED,
      modified,
      created_by_ref: X_ENRICH_IDENTITY.id,
      name: `${summary.verdict === 'malicious' ? 'Malicious' : 'Suspicious'} ${observable.type}: ${stixValue(observable)}`,
      description: describe(records, summary.decidedBy),
      indicator_types: [summary.verdict === 'malicious' ? 'malicious-activity' : 'anomalous-activity'],
      pattern,
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: validFrom,
      ...(confidence > 0 ? { confidence } : {}),
      labels: [summary.verdict, ...summary.decidedBy.map((name) => `x-enrich:${name}`)],
    });
    objects.push(relationship('based-on', indicatorId, sco.id));
  }

  const ttps = new Map<string, StixObject>();
  const categories: string[] = [];
  const categorisedAt: string[] = [];
  const notes: StixObject[] = [];
  for (const record of records) {
    const detections: Entity[] = [];
    for (const entity of record.entities) {
      if (entity.type !== 'ttp' || typeof entity.name !== 'string' || !entity.name) continue;
      const kind = ttpKind(entity);
      if (kind === 'category') {
        categories.push(entity.name);
        categorisedAt.push(timestamp(record.fetchedAt, now));
      } else if (kind === 'detection') {
        detections.push(entity);
      } else {
        const sdo = ttpToSdo(entity);
        if (!ttps.has(sdo.id)) ttps.set(sdo.id, sdo);
      }
    }
    if (detections.length) notes.push(detectionNote(record.provider.name, detections, { sco: sco.id, indicator: indicatorId }, versionOf([timestamp(record.fetchedAt, now)])));
  }
  if (categories.length) {
    const sample = sampleMalware(sco, observable, categories, versionOf(categorisedAt));
    ttps.set(sample.id, sample);
  }
  for (const sdo of ttps.values()) {
    objects.push(sdo);
    objects.push(indicatorId ? relationship('indicates', indicatorId, sdo.id) : relationship('related-to', sdo.id, sco.id));
  }
  objects.push(...notes);
  objects.push(...relatedObjectsToStix(records, sco, now));
  return objects;
}

export interface StixOptions {
  /** The bundle id (default: a random uuid; a bundle is a transport envelope, not an object). */
  bundleId?: string;
  /** Time used when a record has no `fetchedAt` (default: now). */
  now?: () => Date;
}

/** The whole bundle at once, each object once (pure given `options`). */
export function buildStixBundle(items: readonly EnrichedItem[], options: StixOptions = {}): StixBundle {
  const now = (options.now?.() ?? new Date()).toISOString();
  const objects = new Map<string, StixObject>([[X_ENRICH_IDENTITY.id, X_ENRICH_IDENTITY]]);
  for (const item of items) for (const object of itemToStixObjects(item, now)) if (!objects.has(object.id)) objects.set(object.id, object);
  return { type: 'bundle', id: options.bundleId ?? `bundle--${randomUUID()}`, objects: [...objects.values()] };
}

/** Streams the bundle: objects are written as their inputs finish; `end` closes the array. */
export function createStixFormatter(options: StixOptions = {}): OutputFormatter {
  const written = new Set<string>([X_ENRICH_IDENTITY.id]);
  const bundleId = options.bundleId ?? `bundle--${randomUUID()}`;
  return {
    start: () => `{\n"type": "bundle",\n"id": ${JSON.stringify(bundleId)},\n"objects": [\n${JSON.stringify(X_ENRICH_IDENTITY)}`,
    item(item) {
      const now = (options.now?.() ?? new Date()).toISOString();
      let text = '';
      for (const object of itemToStixObjects(item, now)) {
        if (written.has(object.id)) continue;
        written.add(object.id);
        text += ',\n' + JSON.stringify(object);
      }
      return text;
    },
    end: () => '\n]\n}\n',
  };
}
