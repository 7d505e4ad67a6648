import { isIP } from 'node:net';
import type { Entity, Observable } from '@x/core';
import * as z from 'zod';

/**
 * Everything this provider reads beyond the seed's fields: the optional `extract` groups, the
 * facts malice rules can use, and relationships. Kept apart from mapping.ts so the seed's
 * mapping stays as it was and the extra cost is paid only by the groups a user asks for.
 */

/** The v3 object types. */
export type V3ObjectType = 'ip_address' | 'domain' | 'file' | 'url';

/**
 * Groups of extra fields a user can ask for in `extracted` (option `extract`). Each lands under
 * its own key(s); see docs/providers/virustotal-v3.md for every shape.
 */
export const EXTRACT_GROUPS = ['gti', 'severity', 'crowdsourced', 'sandboxes', 'names', 'hashes', 'file_type', 'signature', 'dns', 'certificate', 'votes', 'whois'] as const;
export type ExtractGroup = (typeof EXTRACT_GROUPS)[number];

/**
 * Relationships VirusTotal's public API v3 reference lists per object type (the ones the field's
 * integrations pivot on). `?relationships=` returns their descriptors with the object at no
 * extra quota; `relatedObjects` fetches the related objects themselves, one request each.
 */
export const V3_RELATIONSHIPS: Record<V3ObjectType, readonly string[]> = {
  ip_address: ['resolutions', 'communicating_files', 'downloaded_files', 'referrer_files', 'urls', 'historical_whois', 'historical_ssl_certificates'],
  domain: ['resolutions', 'subdomains', 'siblings', 'parent', 'communicating_files', 'downloaded_files', 'referrer_files', 'urls', 'historical_whois', 'historical_ssl_certificates'],
  file: ['contacted_domains', 'contacted_ips', 'contacted_urls', 'execution_parents', 'bundled_files', 'dropped_files', 'itw_urls', 'itw_domains', 'itw_ips', 'embedded_urls', 'embedded_domains', 'embedded_ips'],
  url: ['last_serving_ip_address', 'network_location', 'downloaded_files', 'contacted_domains', 'contacted_ips', 'redirecting_urls', 'redirects_to', 'communicating_files', 'referrer_files'],
};
export const ALL_RELATIONSHIPS = [...new Set(Object.values(V3_RELATIONSHIPS).flat())].sort();

/** A relationship name this provider knows, for any object type. */
export const zRelationshipName = z.string().refine((name) => ALL_RELATIONSHIPS.includes(name), {
  message: `unknown relationship; known: ${ALL_RELATIONSHIPS.join(', ')}`,
});

const NO_NAMES: readonly string[] = [];

/** The relationships of `names` that apply to an object type (the others are skipped for it). */
export function relationshipsFor(objectType: V3ObjectType, names: readonly string[]): readonly string[] {
  // None asked for (the default): nothing to filter on every lookup.
  if (names.length === 0) return NO_NAMES;
  const valid = V3_RELATIONSHIPS[objectType];
  return names.filter((name) => valid.includes(name));
}

// ----------------------------------------------------------------- attributes read here

// The schemas are built on the first upstream answer that needs them, not at import: a cached
// lookup never parses a body, and building them is milliseconds of every cold start (issue 16).
function buildSchemas() {
  const zCountMap = z.record(z.string(), z.number());
  const zLoose = z.looseObject({});

  /**
   * The extra attributes, each optional and nullable; a present one of the wrong type fails the
   * parse like the seed's fields do.
   */
  const zDepthAttributes = {
    gti_assessment: z
      .looseObject({
        verdict: z.looseObject({ value: z.string() }).nullish(),
        threat_score: z.looseObject({ value: z.number() }).nullish(),
        severity: z.looseObject({ value: z.string() }).nullish(),
        description: z.string().nullish(),
      })
      .nullish(),
    threat_severity: z.looseObject({ threat_severity_level: z.string().nullish(), level_description: z.string().nullish() }).nullish(),
    crowdsourced_yara_results: z
      .array(z.looseObject({ rule_name: z.string().nullish(), ruleset_name: z.string().nullish(), ruleset_id: z.string().nullish(), source: z.string().nullish(), author: z.string().nullish(), description: z.string().nullish() }))
      .nullish(),
    crowdsourced_ids_results: z
      .array(z.looseObject({ rule_msg: z.string().nullish(), alert_severity: z.string().nullish(), rule_source: z.string().nullish(), rule_id: z.string().nullish(), rule_category: z.string().nullish(), rule_raw: z.string().nullish() }))
      .nullish(),
    crowdsourced_ids_stats: zCountMap.nullish(),
    sigma_analysis_results: z
      .array(z.looseObject({ rule_title: z.string().nullish(), rule_level: z.string().nullish(), rule_source: z.string().nullish(), rule_id: z.string().nullish(), rule_description: z.string().nullish() }))
      .nullish(),
    sigma_analysis_stats: zCountMap.nullish(),
    sandbox_verdicts: z
      .record(z.string(), z.looseObject({ category: z.string().nullish(), confidence: z.number().nullish(), sandbox_name: z.string().nullish(), malware_classification: z.array(z.string()).nullish(), malware_names: z.array(z.string()).nullish() }))
      .nullish(),
    names: z.array(z.string()).nullish(),
    meaningful_name: z.string().nullish(),
    ssdeep: z.string().nullish(),
    tlsh: z.string().nullish(),
    vhash: z.string().nullish(),
    authentihash: z.string().nullish(),
    pe_info: z.looseObject({ imphash: z.string().nullish() }).nullish(),
    type_tags: z.array(z.string()).nullish(),
    magic: z.string().nullish(),
    magika: z.string().nullish(),
    trid: z.array(z.looseObject({ probability: z.number().nullish() })).nullish(),
    signature_info: zLoose.nullish(),
    last_dns_records: z.array(z.looseObject({ type: z.string().nullish(), value: z.string().nullish() })).nullish(),
    last_https_certificate: zLoose.nullish(),
    jarm: z.string().nullish(),
    total_votes: z.looseObject({ harmless: z.number().nullish(), malicious: z.number().nullish() }).nullish(),
    whois: z.string().nullish(),
    whois_date: z.number().nullish(),
  };

  return {
    zDepthObject: z.looseObject(zDepthAttributes),
    zRuleset: z.looseObject({ data: z.looseObject({ id: z.string(), attributes: z.looseObject({ name: z.string().nullish(), rules: z.string().nullish() }) }) }),
    zDescriptor: z.looseObject({ type: z.string(), id: z.string(), attributes: z.looseObject({}).optional() }),
    zRelationshipBlock: z.looseObject({ data: z.union([z.array(z.looseObject({})), z.looseObject({}), z.null()]) }),
  };
}

type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;
/** The attribute and body schemas, built once on first use. */
function schemas(): Schemas {
  built ??= buildSchemas();
  return built;
}

export type DepthAttributes = z.output<Schemas['zDepthObject']>;

/**
 * Reads the extra attributes, only when an `extract` group or a rule needs them: a user who
 * asked for neither does not pay for parsing 90 IDS alerts. A present field of the wrong type
 * fails like the default fields do (the body is not what we think it is).
 * @returns the attributes, or the first problem as `path: message`.
 */
export function parseDepthAttributes(attributes: unknown): { ok: true; attributes: DepthAttributes } | { ok: false; problem: string } {
  const parsed = schemas().zDepthObject.safeParse(attributes);
  if (parsed.success) return { ok: true, attributes: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, problem: `attributes.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'unexpected shape'}` };
}

/** The rule facts' names (see ruleFacts); a rule on one of them makes the mapping read the extra attributes. */
export const RULE_FACTS = [
  'gti_verdict',
  'gti_threat_score',
  'gti_severity',
  'threat_severity_level',
  'yara_match_count',
  'ids_high_count',
  'ids_medium_count',
  'sigma_critical_count',
  'sigma_high_count',
  'sandbox_malicious_count',
  'sandbox_categories',
  'votes_malicious',
  'votes_harmless',
] as const;

const iso = (seconds: number | null | undefined): string | null => (typeof seconds === 'number' && seconds > 0 ? new Date(seconds * 1000).toISOString() : null);

function countOf(counts: Record<string, number> | null | undefined, key: string): number {
  return counts?.[key] ?? 0;
}

function tally(items: ReadonlyArray<Record<string, unknown>> | null | undefined, key: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items ?? []) {
    const value = item[key];
    if (typeof value === 'string') counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
}

/**
 * Flat facts the malice rules can read (see FIELD_KINDS), computed for every object whatever
 * `extract` asks for: a rule on the GTI verdict works without putting GTI in the output.
 * Absent data is null, which no condition matches.
 */
export function ruleFacts(a: DepthAttributes): Record<(typeof RULE_FACTS)[number], unknown> {
  const ids = a.crowdsourced_ids_stats ?? (a.crowdsourced_ids_results ? tally(a.crowdsourced_ids_results, 'alert_severity') : null);
  const sigma = a.sigma_analysis_stats ?? (a.sigma_analysis_results ? tally(a.sigma_analysis_results, 'rule_level') : null);
  const sandboxes = a.sandbox_verdicts ? Object.values(a.sandbox_verdicts) : null;
  return {
    gti_verdict: a.gti_assessment?.verdict?.value ?? null,
    gti_threat_score: a.gti_assessment?.threat_score?.value ?? null,
    gti_severity: a.gti_assessment?.severity?.value ?? null,
    threat_severity_level: a.threat_severity?.threat_severity_level ?? null,
    yara_match_count: a.crowdsourced_yara_results ? a.crowdsourced_yara_results.length : null,
    ids_high_count: ids ? countOf(ids, 'high') : null,
    ids_medium_count: ids ? countOf(ids, 'medium') : null,
    sigma_critical_count: sigma ? countOf(sigma, 'critical') : null,
    sigma_high_count: sigma ? countOf(sigma, 'high') : null,
    sandbox_malicious_count: sandboxes ? sandboxes.filter((s) => s.category === 'malicious').length : null,
    sandbox_categories: sandboxes ? sandboxes.map((s) => s.category).filter((c): c is string => typeof c === 'string') : null,
    votes_malicious: a.total_votes?.malicious ?? null,
    votes_harmless: a.total_votes?.harmless ?? null,
  };
}

/**
 * `{ counts, rules }` of crowdsourced IDS alerts or Sigma matches: counts by severity (every
 * level present, VirusTotal's own stats when sent, else counted from the results) and one entry
 * per rule; null when VirusTotal sent neither.
 */
function severitySummary<T extends Record<string, unknown>>(
  results: readonly T[] | null | undefined,
  stats: Record<string, number> | null | undefined,
  severityKey: keyof T & string,
  levels: readonly string[],
  rule: (result: T) => Record<string, unknown>,
): { counts: Record<string, number>; rules: Array<Record<string, unknown>> } | null {
  if (!results && !stats) return null;
  const counts = Object.fromEntries(levels.map((level) => [level, 0]));
  return { counts: { ...counts, ...(stats ?? tally(results, severityKey)) }, rules: (results ?? []).map(rule) };
}

/** The `extract` groups' fields for an object (each group's keys, null where VirusTotal sent nothing). */
export function groupFields(
  objectType: V3ObjectType,
  a: DepthAttributes,
  groups: ReadonlySet<ExtractGroup>,
  ruleText: boolean,
  yaraRulesetBodies?: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const isFile = objectType === 'file';
  if (groups.has('gti')) {
    const g = a.gti_assessment;
    out.gti = g ? { verdict: g.verdict?.value ?? null, threat_score: g.threat_score?.value ?? null, severity: g.severity?.value ?? null, description: g.description ?? null } : null;
  }
  if (groups.has('severity')) {
    const s = a.threat_severity;
    out.threat_severity = s ? { level: s.threat_severity_level ?? null, description: s.level_description ?? null } : null;
  }
  if (groups.has('crowdsourced') && isFile) {
    const yara = a.crowdsourced_yara_results;
    const ids = a.crowdsourced_ids_results;
    const sigma = a.sigma_analysis_results;
    out.crowdsourced = {
      yara: yara
        ? {
            count: yara.length,
            rules: yara.map((r) => ({ rule_name: r.rule_name ?? null, ruleset_name: r.ruleset_name ?? null, ruleset_id: r.ruleset_id ?? null, source: r.source ?? null, author: r.author ?? null })),
            ...(yaraRulesetBodies ? { rulesets: rulesetTexts(yaraRulesetBodies) } : {}),
          }
        : null,
      ids: severitySummary(ids, a.crowdsourced_ids_stats, 'alert_severity', ['high', 'medium', 'low', 'info'], (r) => ({
        rule_msg: r.rule_msg ?? null,
        severity: r.alert_severity ?? null,
        source: r.rule_source ?? null,
        rule_id: r.rule_id ?? null,
        ...(ruleText ? { rule_raw: r.rule_raw ?? null } : {}),
      })),
      sigma: severitySummary(sigma, a.sigma_analysis_stats, 'rule_level', ['critical', 'high', 'medium', 'low'], (r) => ({
        title: r.rule_title ?? null,
        level: r.rule_level ?? null,
        source: r.rule_source ?? null,
        rule_id: r.rule_id ?? null,
        ...(ruleText ? { description: r.rule_description ?? null } : {}),
      })),
    };
  }
  if (groups.has('sandboxes') && isFile) {
    out.sandbox_verdicts = a.sandbox_verdicts
      ? Object.entries(a.sandbox_verdicts).map(([name, v]) => ({ sandbox: v.sandbox_name ?? name, category: v.category ?? null, confidence: v.confidence ?? null, classification: v.malware_classification ?? [], malware_names: v.malware_names ?? [] }))
      : null;
  }
  if (groups.has('names') && isFile) {
    out.names = a.names ?? null;
    out.meaningful_name = a.meaningful_name ?? null;
  }
  if (groups.has('hashes') && isFile) out.fuzzy_hashes = { ssdeep: a.ssdeep ?? null, tlsh: a.tlsh ?? null, vhash: a.vhash ?? null, imphash: a.pe_info?.imphash ?? null, authentihash: a.authentihash ?? null };
  if (groups.has('file_type') && isFile) out.file_type = { type_tags: a.type_tags ?? null, magic: a.magic ?? null, magika: a.magika ?? null, trid: a.trid ?? null };
  if (groups.has('signature') && isFile) out.signature_info = a.signature_info ?? null;
  if (groups.has('dns') && objectType === 'domain') out.last_dns_records = a.last_dns_records ?? null;
  if (groups.has('certificate') && (objectType === 'domain' || objectType === 'ip_address')) {
    const cert = a.last_https_certificate as { subject?: unknown; issuer?: unknown; validity?: unknown; thumbprint_sha256?: unknown; serial_number?: unknown } | null | undefined;
    out.https_certificate = cert ? { subject: cert.subject ?? null, issuer: cert.issuer ?? null, validity: cert.validity ?? null, thumbprint_sha256: cert.thumbprint_sha256 ?? null, serial_number: cert.serial_number ?? null } : null;
    out.jarm = a.jarm ?? null;
  }
  if (groups.has('votes')) out.votes = a.total_votes ? { harmless: a.total_votes.harmless ?? 0, malicious: a.total_votes.malicious ?? 0 } : null;
  if (groups.has('whois') && objectType !== 'file' && objectType !== 'url') {
    out.whois = a.whois ?? null;
    out.whois_date = iso(a.whois_date);
  }
  return out;
}

/**
 * The ruleset ids of a file's YARA matches, each once, in match order, up to `limit`: the
 * rulesets `yaraRulesets` fetches (`GET /yara_rulesets/{id}`, one request each). Reads the
 * mapped `extracted.crowdsourced` (the option requires that group), so the body is parsed once.
 */
export function yaraRulesetIds(crowdsourced: unknown, limit: number): string[] {
  const rules = (crowdsourced as { yara?: { rules?: unknown } } | null | undefined)?.yara?.rules;
  if (!Array.isArray(rules) || limit <= 0) return [];
  const ids = new Set<string>();
  for (const rule of rules) {
    const id = (rule as { ruleset_id?: unknown } | null)?.ruleset_id;
    if (typeof id === 'string' && id !== '') ids.add(id);
    if (ids.size >= limit) break;
  }
  return [...ids];
}


/**
 * `{ <ruleset_id>: { name, text } }` from fetched `/yara_rulesets/{id}` bodies; a ruleset
 * VirusTotal did not serve (NotFoundError, or a body of another shape) is `null`, so a reader
 * can tell "fetched, absent" from "not asked for".
 */
function rulesetTexts(bodies: Readonly<Record<string, unknown>>): Record<string, { name: string | null; text: string | null } | null> {
  const out: Record<string, { name: string | null; text: string | null } | null> = {};
  for (const [id, body] of Object.entries(bodies)) {
    const parsed = body === null ? undefined : schemas().zRuleset.safeParse(body);
    out[id] = parsed?.success ? { name: parsed.data.data.attributes.name ?? null, text: parsed.data.data.attributes.rules ?? null } : null;
  }
  return out;
}

// ----------------------------------------------------------------- relationships

/** One related object as it lands in `extracted.relationships[name]`. */
export interface RelatedRef {
  type: string;
  id: string;
  /** The related observable when it is one x-enrich knows (domain, IP, sha256, URL), else null. */
  observable: Observable | null;
  /** From the related object's own analysis, when the object itself was fetched (relatedObjects). */
  malicious_count?: number | null;
}

/** The observable a related object is, when x-enrich can look it up; resolutions name the other end. */
export function relatedObservable(subject: Observable, type: string, id: string, attributes?: Record<string, unknown>): Observable | null {
  switch (type) {
    case 'domain':
      return { type: 'domain', value: id.toLowerCase() };
    case 'ip_address': {
      const version = isIP(id);
      return version ? { type: version === 6 ? 'ipv6' : 'ipv4', value: id.toLowerCase() } : null;
    }
    case 'file':
      return /^[0-9a-f]{64}$/i.test(id) ? { type: 'sha256', value: id.toLowerCase() } : null;
    case 'url': {
      const url = attributes?.url;
      return typeof url === 'string' ? { type: 'url', value: url } : null;
    }
    case 'resolution': {
      // The id is the IP address followed by the host name.
      const ip = typeof attributes?.ip_address === 'string' ? attributes.ip_address : undefined;
      const host = typeof attributes?.host_name === 'string' ? attributes.host_name : undefined;
      if (subject.type === 'domain') return relatedObservable(subject, 'ip_address', ip ?? id.slice(0, id.length - subject.value.length));
      if (subject.type === 'ipv4' || subject.type === 'ipv6') return relatedObservable(subject, 'domain', host ?? id.slice(subject.value.length));
      return null;
    }
    default:
      return null;
  }
}

function refOf(subject: Observable, item: unknown, full: boolean): RelatedRef | undefined {
  const parsed = schemas().zDescriptor.safeParse(item);
  if (!parsed.success) return undefined;
  const { type, id, attributes } = parsed.data;
  const ref: RelatedRef = { type, id, observable: relatedObservable(subject, type, id, attributes) };
  if (full) {
    const stats = (attributes as { last_analysis_stats?: Record<string, number> } | undefined)?.last_analysis_stats;
    ref.malicious_count = stats ? (stats.malicious ?? 0) : null;
  }
  return ref;
}

/** Related refs from the object's `relationships` block (descriptors only). */
export function refsFromObject(subject: Observable, relationships: unknown): Record<string, RelatedRef[]> {
  const out: Record<string, RelatedRef[]> = {};
  if (typeof relationships !== 'object' || relationships === null) return out;
  for (const [name, block] of Object.entries(relationships)) {
    const parsed = schemas().zRelationshipBlock.safeParse(block);
    if (!parsed.success) continue;
    const items = parsed.data.data === null ? [] : Array.isArray(parsed.data.data) ? parsed.data.data : [parsed.data.data];
    out[name] = items.map((item) => refOf(subject, item, false)).filter((ref): ref is RelatedRef => ref !== undefined);
  }
  return out;
}

/** Related refs from a relationship collection (`data` is a list of full objects, or one object). Error items are skipped. */
export function refsFromCollection(subject: Observable, body: unknown): RelatedRef[] {
  const data = (body as { data?: unknown } | null)?.data;
  const items = data === null || data === undefined ? [] : Array.isArray(data) ? data : [data];
  return items.map((item) => refOf(subject, item, true)).filter((ref): ref is RelatedRef => ref !== undefined);
}

/** One `related` entity per related object: the relationship's name, the object and, when it is one, its observable. */
export function relatedEntities(subject: Observable, relationships: Record<string, RelatedRef[]>): Entity[] {
  const entities: Entity[] = [];
  for (const [relationship, refs] of Object.entries(relationships)) {
    for (const ref of refs) {
      entities.push({
        type: 'related',
        name: `${relationship}: ${ref.observable?.value ?? ref.id}`,
        relationship,
        objectType: ref.type,
        id: ref.id,
        source: 'virustotal',
        from: { type: subject.type, value: subject.value },
        ...(ref.observable ? { observable: ref.observable } : {}),
        ...(ref.malicious_count !== undefined ? { malicious_count: ref.malicious_count } : {}),
      });
    }
  }
  return entities;
}

