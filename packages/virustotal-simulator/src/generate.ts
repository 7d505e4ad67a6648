import { engineVersion, FILE_ENGINE_POOL, URL_ENGINE_POOL } from './engines.js';
import { depthAttributes, type DepthControl } from './extras.js';
import type { ObjectKind } from './observables.js';
import type { Outcome } from './outcome.js';
import { digest, hashHex, SeededRandom } from './rng.js';

/** v3 `last_analysis_results` categories. */
export type EngineCategory = 'malicious' | 'suspicious' | 'harmless' | 'undetected' | 'timeout' | 'type-unsupported';

/** One engine's verdict, the common model behind v3 `last_analysis_results` and v2 `scans`. */
export interface EngineVerdict {
  engine: string;
  category: EngineCategory;
  result: string | null;
}

const DAY = 86_400;
/** 2025-01-01T00:00:00Z: generated analyses fall in 2025, fixed so responses never depend on the clock. */
const EPOCH = 1_735_689_600;

const FAMILIES = ['agenttesla', 'emotet', 'qakbot', 'formbook', 'redline', 'lokibot', 'remcos', 'njrat', 'zegost', 'mirai', 'trickbot', 'icedid', 'ursnif', 'lumma'];
const THREAT_CATEGORIES = ['trojan', 'downloader', 'dropper', 'ransomware', 'spyware', 'banker', 'worm', 'pua', 'hacktool', 'adware'];
const FILE_TYPES = [
  { description: 'Win32 EXE', tag: 'peexe', ext: 'exe', magic: 'PE32 executable (GUI) Intel 80386, for MS Windows', min: 40_000, max: 4_000_000 },
  { description: 'Win32 DLL', tag: 'pedll', ext: 'dll', magic: 'PE32 executable (DLL) (GUI) Intel 80386, for MS Windows', min: 20_000, max: 2_000_000 },
  { description: 'PDF', tag: 'pdf', ext: 'pdf', magic: 'PDF document, version 1.7', min: 10_000, max: 3_000_000 },
  { description: 'MS Word Document', tag: 'doc', ext: 'doc', magic: 'Composite Document File V2 Document, Little Endian', min: 20_000, max: 900_000 },
  { description: 'ZIP', tag: 'zip', ext: 'zip', magic: 'Zip archive data, at least v2.0 to extract', min: 1_000, max: 8_000_000 },
  { description: 'ELF', tag: 'elf', ext: 'elf', magic: 'ELF 64-bit LSB executable, x86-64, version 1 (SYSV)', min: 8_000, max: 2_000_000 },
  { description: 'Android', tag: 'android', ext: 'apk', magic: 'Zip archive data, at least v2.0 to extract', min: 500_000, max: 30_000_000 },
  { description: 'Powershell', tag: 'powershell', ext: 'ps1', magic: 'ASCII text, with CRLF line terminators', min: 300, max: 60_000 },
  { description: 'JavaScript', tag: 'javascript', ext: 'js', magic: 'ASCII text, with very long lines', min: 500, max: 200_000 },
] as const;
const NETWORKS = [
  { asn: 15169, as_owner: 'GOOGLE', country: 'US', continent: 'NA', rir: 'ARIN' },
  { asn: 13335, as_owner: 'CLOUDFLARENET', country: 'US', continent: 'NA', rir: 'ARIN' },
  { asn: 16509, as_owner: 'AMAZON-02', country: 'US', continent: 'NA', rir: 'ARIN' },
  { asn: 14061, as_owner: 'DIGITALOCEAN-ASN', country: 'US', continent: 'NA', rir: 'ARIN' },
  { asn: 24940, as_owner: 'Hetzner Online GmbH', country: 'DE', continent: 'EU', rir: 'RIPE NCC' },
  { asn: 16276, as_owner: 'OVH SAS', country: 'FR', continent: 'EU', rir: 'RIPE NCC' },
  { asn: 9009, as_owner: 'M247 Europe SRL', country: 'RO', continent: 'EU', rir: 'RIPE NCC' },
  { asn: 4134, as_owner: 'Chinanet', country: 'CN', continent: 'AS', rir: 'APNIC' },
  { asn: 45090, as_owner: 'Shenzhen Tencent Computer Systems Company Limited', country: 'CN', continent: 'AS', rir: 'APNIC' },
  { asn: 20473, as_owner: 'AS-CHOOPA', country: 'US', continent: 'NA', rir: 'ARIN' },
  { asn: 8075, as_owner: 'MICROSOFT-CORP-MSN-AS-BLOCK', country: 'US', continent: 'NA', rir: 'ARIN' },
  { asn: 12389, as_owner: 'Rostelecom', country: 'RU', continent: 'EU', rir: 'RIPE NCC' },
];
const REGISTRARS = ['MarkMonitor Inc.', 'GoDaddy.com, LLC', 'NameCheap, Inc.', 'Tucows Domains Inc.', 'Gandi SAS', 'PDR Ltd. d/b/a PublicDomainRegistry.com', 'NameSilo, LLC', 'Alibaba Cloud Computing (Beijing) Co., Ltd.'];
const CLEAN_CATEGORIES = ['information technology', 'business', 'computersandsoftware', 'news and media', 'search engines and portals', 'education', 'shopping'];
const BAD_CATEGORIES = ['phishing', 'malicious web sites', 'malware sites', 'spyware and adware', 'suspicious'];

/** Everything generated about one observable; the v3 and v2 renderers read only this. */
export interface SimulatedObject {
  kind: ObjectKind;
  /** v3 `data.id`: the IP, the domain, the file's sha256 or the URL's sha256. */
  id: string;
  outcome: Outcome;
  analysisDate: number;
  verdicts: EngineVerdict[];
  attributes: Record<string, unknown>;
}

function ymd(unix: number): string {
  return new Date(unix * 1000).toISOString().slice(0, 10).replaceAll('-', '');
}

/** v2 `scan_date`: `YYYY-MM-DD HH:MM:SS` in UTC. */
export function scanDate(unix: number): string {
  return new Date(unix * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

// Detection-name templates in the styles real engines use; only the chosen one is built.
const DETECTION_NAMES: ReadonlyArray<(F: string, rng: SeededRandom) => string> = [
  (_, rng) => `Trojan.GenericKD.${rng.int(10_000, 999_999)}`,
  (F, rng) => `Gen:Variant.${F}.${rng.int(10_000, 999_999)}`,
  (F) => `Trojan:Win32/${F}.A!ml`,
  () => 'W32.AIDetectMalware',
  () => 'malicious (high confidence)',
  (F) => `Win32:${F}-C [Trj]`,
  (F, rng) => `Trojan.Win32.${F}.${rng.hex(4)}`,
  (F) => `a variant of Win32/${F}.A`,
  () => 'Unsafe',
  (F) => `Trojan-Spy.Win32.${F}.gen`,
  (F, rng) => `Backdoor.${F}!8.${rng.int(100, 999)}`,
];

function fileDetectionName(rng: SeededRandom, family: string): string {
  return rng.pick(DETECTION_NAMES)(capitalise(family), rng);
}

const URL_DETECTIONS = ['malicious', 'phishing', 'malware'];
const URL_RESULTS: Record<EngineCategory, string | null> = { malicious: 'malicious', suspicious: 'suspicious', harmless: 'clean', undetected: 'unrated', timeout: null, 'type-unsupported': null };

function verdictsFor(outcome: Outcome, kind: ObjectKind, rng: SeededRandom, family: string): EngineVerdict[] {
  if (outcome.status !== 'found') return [];
  const pool = kind === 'file' ? FILE_ENGINE_POOL : URL_ENGINE_POOL;
  const engines = pool.slice(0, outcome.total);
  const order = rng.shuffle(engines.map((_, i) => i));
  const categories = new Array<EngineCategory>(engines.length);
  let cursor = 0;
  const assign = (count: number, category: EngineCategory) => {
    for (let k = 0; k < count && cursor < order.length; k++) categories[order[cursor++] as number] = category;
  };
  assign(outcome.malicious, 'malicious');
  assign(outcome.suspicious, 'suspicious');
  const rest = outcome.total - outcome.malicious - outcome.suspicious;
  if (kind === 'file') {
    const unsupported = Math.min(rest, rng.int(2, 4));
    const timeout = Math.min(rest - unsupported, rng.next() < 0.2 ? 1 : 0);
    assign(unsupported, 'type-unsupported');
    assign(timeout, 'timeout');
    assign(rest, 'undetected');
  } else {
    assign(Math.min(rest, rng.int(6, 10)), 'undetected');
    assign(rest, 'harmless');
  }
  return engines.map((engine, i) => {
    const category = categories[i] as EngineCategory;
    let result: string | null = null;
    if (kind === 'file') {
      if (category === 'malicious') result = fileDetectionName(rng, family);
      else if (category === 'suspicious') result = rng.pick(['Suspicious', 'Heur.Suspicious', 'malware (ai score=82)', 'Static AI - Suspicious PE']);
    } else {
      result = category === 'malicious' ? rng.pick(URL_DETECTIONS) : URL_RESULTS[category];
    }
    return { engine, category, result };
  });
}

function stats(verdicts: EngineVerdict[], kind: ObjectKind): Record<string, number> {
  // One pass (this runs for every generated object).
  let malicious = 0;
  let suspicious = 0;
  let undetected = 0;
  let harmless = 0;
  let timeout = 0;
  let unsupported = 0;
  for (const { category } of verdicts) {
    if (category === 'malicious') malicious++;
    else if (category === 'suspicious') suspicious++;
    else if (category === 'undetected') undetected++;
    else if (category === 'harmless') harmless++;
    else if (category === 'timeout') timeout++;
    else unsupported++;
  }
  if (kind === 'file') {
    return { malicious, suspicious, undetected, harmless, timeout, 'confirmed-timeout': 0, failure: 0, 'type-unsupported': unsupported };
  }
  return { harmless, malicious, suspicious, undetected, timeout };
}

function votes(rng: SeededRandom, outcome: Outcome): { harmless: number; malicious: number } {
  const bad = outcome.malicious > 4;
  return { harmless: bad ? rng.int(0, 2) : rng.int(0, 12), malicious: bad ? rng.int(1, 25) : rng.int(0, 1) };
}

function reputation(rng: SeededRandom, outcome: Outcome): number {
  if (outcome.malicious >= 5) return -rng.int(5, 80);
  if (outcome.malicious > 0 || outcome.suspicious > 0) return rng.int(-10, 0);
  return rng.int(0, 40);
}

function threatClassification(rng: SeededRandom, outcome: Outcome, family: string): Record<string, unknown> | undefined {
  if (outcome.status !== 'found' || outcome.malicious === 0) return undefined;
  const second = rng.pick(FAMILIES.filter((f) => f !== family));
  const category = rng.pick(THREAT_CATEGORIES);
  const top = Math.max(1, Math.ceil(outcome.malicious * 0.4));
  const names = [{ count: top, value: family }];
  if (outcome.malicious >= 3) names.push({ count: Math.max(1, Math.floor(top / 2)), value: second });
  const categories = [{ count: Math.max(1, Math.ceil(outcome.malicious * 0.5)), value: category }];
  if (outcome.malicious >= 4) categories.push({ count: Math.max(1, Math.floor(outcome.malicious * 0.1)), value: rng.pick(THREAT_CATEGORIES.filter((c) => c !== category)) });
  return {
    suggested_threat_label: outcome.malicious >= 3 ? `${category}.${family}/${second}` : `${category}.${family}`,
    popular_threat_category: categories,
    popular_threat_name: names,
  };
}

/** The other two hashes of a file, derived from its identity; reserved prefixes are kept so every hash gives the same outcome. */
export function deriveFileHashes(seed: string, givenHash: string, outcome: Outcome): { md5: string; sha1: string; sha256: string } {
  const given = givenHash.toLowerCase();
  const reservedPrefix = outcome.reserved ? given.slice(0, 18) : '';
  const derive = (algorithm: 'md5' | 'sha1' | 'sha256') => {
    const length = algorithm === 'md5' ? 32 : algorithm === 'sha1' ? 40 : 64;
    if (given.length === length) return given;
    let hash = hashHex(algorithm, `${seed}\u0000file\u0000${given}`);
    if (reservedPrefix) hash = reservedPrefix + hash.slice(reservedPrefix.length);
    else if (hash.startsWith('00000000')) hash = `f${hash.slice(1)}`; // never collide with the reserved scheme
    return hash;
  };
  return { md5: derive('md5'), sha1: derive('sha1'), sha256: derive('sha256') };
}

function networkOf(ip: string, rng: SeededRandom): string {
  if (ip.includes(':')) {
    const groups = ip.split(':').filter(Boolean).slice(0, 3);
    return `${groups.join(':')}::/48`;
  }
  const [a, b, c] = ip.split('.');
  return rng.next() < 0.5 ? `${a}.${b}.0.0/16` : `${a}.${b}.${c}.0/24`;
}

/**
 * Generates one observable's object. `value` is what the client asked for (ip, domain,
 * hash, canonical URL or undefined for a URL known only by its SHA-256); `identity` is the
 * key every generated value derives from.
 */
export function simulate(
  seed: string,
  kind: ObjectKind,
  id: string,
  value: string | undefined,
  identity: string,
  outcome: Outcome,
  fileHashes?: { md5: string; sha1: string; sha256: string },
  depth: { gti: boolean; control?: DepthControl } = { gti: false },
): SimulatedObject {
  const rng = new SeededRandom(digest(seed, 'object', kind, identity));
  const family = rng.pick(FAMILIES);
  const analysisDate = EPOCH + rng.int(0, 330 * DAY);
  const verdicts = verdictsFor(outcome, kind, rng, family);
  const analysed = outcome.status === 'found';
  // Fields every kind has, appended after the kind's own (rng calls stay in the same order).
  const addCommon = (attributes: Record<string, unknown>): Record<string, unknown> => {
    if (analysed) attributes.last_analysis_date = analysisDate;
    attributes.last_analysis_stats = stats(verdicts, kind);
    attributes.last_analysis_results = RESULTS_PLACEHOLDER;
    attributes.last_modification_date = analysisDate + rng.int(0, 5 * DAY);
    attributes.reputation = reputation(rng, outcome);
    attributes.tags = [] as string[];
    attributes.total_votes = votes(rng, outcome);
    return attributes;
  };

  let attributes: Record<string, unknown>;
  switch (kind) {
    case 'ip_address': {
      const net = rng.pick(NETWORKS);
      attributes = addCommon({
        regional_internet_registry: net.rir,
        network: networkOf(id, rng),
        country: net.country,
        as_owner: net.as_owner,
        asn: net.asn,
        continent: net.continent,
        whois: `NetRange: ${networkOf(id, rng)}\nOrgName: ${net.as_owner}\nCountry: ${net.country}\n`,
        whois_date: analysisDate - rng.int(DAY, 200 * DAY),
      });
      break;
    }
    case 'domain': {
      const bad = outcome.malicious > 0;
      const vendors = ['BitDefender', 'Forcepoint ThreatSeeker', 'Sophos', 'alphaMountain.ai'];
      const categories: Record<string, string> = {};
      for (const vendor of vendors) categories[vendor] = bad && outcome.malicious >= 5 ? rng.pick(BAD_CATEGORIES) : rng.pick(CLEAN_CATEGORIES);
      const created = analysisDate - (bad ? rng.int(2 * DAY, 400 * DAY) : rng.int(400 * DAY, 9000 * DAY));
      const ip = `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
      attributes = addCommon({
        categories,
        creation_date: created,
        last_update_date: created + rng.int(DAY, 300 * DAY),
        registrar: rng.pick(REGISTRARS),
        last_dns_records: [
          { type: 'A', value: ip, ttl: 300 },
          { type: 'NS', value: `ns1.${id}`, ttl: 21_600 },
        ],
        last_dns_records_date: analysisDate,
        ...(bad ? {} : { popularity_ranks: { 'Cisco Umbrella': { rank: rng.int(1_000, 900_000), timestamp: analysisDate } } }),
        tld: id.split('.').pop(),
        whois: `Domain Name: ${id.toUpperCase()}\nRegistrar: ${'x'}\nCreation Date: ${new Date(created * 1000).toISOString()}\n`,
        whois_date: analysisDate - rng.int(DAY, 100 * DAY),
      });
      (attributes.whois as string) = (attributes.whois as string).replace('Registrar: x', `Registrar: ${attributes.registrar as string}`);
      break;
    }
    case 'file': {
      const type = rng.pick(FILE_TYPES);
      const hashes = fileHashes ?? deriveFileHashes(seed, value ?? id, outcome);
      const name = `${rng.pick(['invoice', 'setup', 'update', 'report', 'document', 'payload', 'installer', 'scan'])}_${rng.hex(6)}.${type.ext}`;
      const firstSubmission = analysisDate - rng.int(0, 900 * DAY);
      const classification = threatClassification(rng, outcome, family);
      attributes = addCommon({
        type_description: type.description,
        type_tag: type.tag,
        type_extension: type.ext,
        magic: type.magic,
        size: rng.int(type.min, type.max),
        md5: hashes.md5,
        sha1: hashes.sha1,
        sha256: hashes.sha256,
        names: [name, `${rng.hex(8)}.${type.ext}`],
        meaningful_name: name,
        first_submission_date: firstSubmission,
        last_submission_date: analysed ? analysisDate : firstSubmission,
        times_submitted: rng.int(1, 40),
        unique_sources: rng.int(1, 20),
        ...(classification ? { popular_threat_classification: classification } : {}),
      });
      break;
    }
    case 'url': {
      const bad = outcome.malicious > 0;
      const title = bad ? rng.pick(['Sign in to your account', 'Microsoft 365 - Login', 'Document Shared With You', 'Verify your account']) : rng.pick(['Home', 'Welcome', 'Example Domain', 'Documentation']);
      const firstSubmission = analysisDate - rng.int(0, 400 * DAY);
      attributes = addCommon({
        ...(value ? { url: value, last_final_url: value } : {}),
        title,
        categories: {
          'Forcepoint ThreatSeeker': bad && outcome.malicious >= 5 ? rng.pick(BAD_CATEGORIES) : rng.pick(CLEAN_CATEGORIES),
          Sophos: bad && outcome.malicious >= 5 ? rng.pick(BAD_CATEGORIES) : rng.pick(CLEAN_CATEGORIES),
        },
        last_http_response_code: bad ? rng.pick([200, 200, 302, 404]) : 200,
        last_http_response_content_length: rng.int(300, 90_000),
        first_submission_date: firstSubmission,
        last_submission_date: analysed ? analysisDate : firstSubmission,
        times_submitted: rng.int(1, 30),
        threat_names: bad ? [rng.pick(['phishing', 'malware_download', 'Mal/HTMLGen-A'])] : [],
        has_content: false,
      });
      break;
    }
  }
  if (outcome.malicious >= 5) (attributes.tags as string[]).push(kind === 'file' ? 'detect-debug-environment' : 'malicious-activity');
  Object.assign(attributes, depthAttributes(seed, kind, identity, outcome, attributes, analysisDate, depth.gti, depth.control));
  // last_analysis_results is a placeholder filled in when serialised (see v3Json): the
  // per-engine objects are most of the work.
  return { kind, id, outcome, analysisDate, verdicts, attributes };
}

const RESULTS_PLACEHOLDER = '\u0000last_analysis_results\u0000';
const RESULTS_PLACEHOLDER_JSON = JSON.stringify(RESULTS_PLACEHOLDER);

function engineResults(object: SimulatedObject): Record<string, Record<string, unknown>> {
  const results: Record<string, Record<string, unknown>> = {};
  const update = ymd(object.analysisDate);
  for (const verdict of object.verdicts) {
    results[verdict.engine] =
      object.kind === 'file'
        ? { method: 'blacklist', engine_name: verdict.engine, engine_version: engineVersion(verdict.engine), engine_update: update, category: verdict.category, result: verdict.result }
        : { method: 'blacklist', engine_name: verdict.engine, category: verdict.category, result: verdict.result };
  }
  return results;
}

// The constant start of each engine's JSON entry, built once per engine and family.
const ENGINE_PREFIXES = new Map<string, string>();
// The end of an entry whose result is null (most engines), built once per category.
const NULL_RESULT_ENDS = Object.fromEntries(
  (['malicious', 'suspicious', 'harmless', 'undetected', 'timeout', 'type-unsupported'] as const).map((category) => [category, `"category":"${category}","result":null}`]),
) as Record<EngineCategory, string>;

function entryEnd(category: EngineCategory, result: string | null): string {
  return result === null ? NULL_RESULT_ENDS[category] : `"category":"${category}","result":${JSON.stringify(result)}}`;
}

function engineResultsJson(object: SimulatedObject): string {
  const file = object.kind === 'file';
  const update = file ? `"${ymd(object.analysisDate)}",` : '';
  let json = '{';
  let first = true;
  for (const verdict of object.verdicts) {
    const cacheKey = `${file ? 'f' : 'u'}${verdict.engine}`;
    let prefix = ENGINE_PREFIXES.get(cacheKey);
    if (prefix === undefined) {
      const name = JSON.stringify(verdict.engine);
      prefix = file ? `${name}:{"method":"blacklist","engine_name":${name},"engine_version":${JSON.stringify(engineVersion(verdict.engine))},"engine_update":` : `${name}:{"method":"blacklist","engine_name":${name},`;
      ENGINE_PREFIXES.set(cacheKey, prefix);
    }
    json += (first ? '' : ',') + prefix + update + entryEnd(verdict.category, verdict.result);
    first = false;
  }
  return json + '}';
}

const COLLECTION: Record<ObjectKind, string> = { ip_address: 'ip_addresses', domain: 'domains', file: 'files', url: 'urls' };

function document(object: SimulatedObject, attributes: Record<string, unknown>): Record<string, unknown> {
  return {
    data: {
      type: object.kind,
      id: object.id,
      links: { self: `https://www.virustotal.com/api/v3/${COLLECTION[object.kind]}/${object.id}` },
      attributes,
    },
  };
}

/** The v3 `{data: {type, id, links, attributes}}` document. */
export function v3Document(object: SimulatedObject): Record<string, unknown> {
  return document(object, { ...object.attributes, last_analysis_results: engineResults(object) });
}

/** The same document serialised, equal to `JSON.stringify(v3Document(object))` but cheaper: engine entries are built as strings from cached prefixes. */
export function v3Json(object: SimulatedObject): string {
  return JSON.stringify(document(object, object.attributes)).replace(RESULTS_PLACEHOLDER_JSON, () => engineResultsJson(object));
}

// ---------------------------------------------------------------- v2

/** The real v2 `verbose_msg` strings (see the captures' SOURCES.md). */
export const V2_MESSAGES = {
  fileFound: 'Scan finished, information embedded',
  fileNotFound: 'The requested resource is not among the finished, queued or pending scans',
  urlFound: 'Scan finished, scan information embedded in this object',
  urlNotFound: 'Resource does not exist in the dataset',
  urlScanQueued: 'Scan request successfully queued, come back later for the report',
  queued: 'Your resource is queued for analysis',
  domainFound: 'Domain found in dataset',
  domainNotFound: 'Domain not found',
  ipFound: 'IP address in dataset',
  ipNotFound: 'IP address not in dataset',
  invalidResource: 'Invalid resource, check what you are submitting',
} as const;

/** v2 file/report for one resource (`resource` is echoed as the client sent it). */
export function v2FileReport(object: SimulatedObject, resource: string): Record<string, unknown> {
  const sha256 = object.attributes.sha256 as string;
  if (object.outcome.status === 'not_found') return { response_code: 0, resource, verbose_msg: V2_MESSAGES.fileNotFound };
  if (object.outcome.status === 'queued') return { response_code: -2, resource, scan_id: sha256, verbose_msg: V2_MESSAGES.queued };
  const update = ymd(object.analysisDate);
  const scans: Record<string, unknown> = {};
  for (const verdict of object.verdicts) {
    scans[verdict.engine] = { detected: verdict.category === 'malicious', version: engineVersion(verdict.engine), result: verdict.category === 'malicious' ? verdict.result : null, update };
  }
  return {
    scans,
    scan_id: `${sha256}-${object.analysisDate}`,
    sha1: object.attributes.sha1,
    resource,
    response_code: 1,
    scan_date: scanDate(object.analysisDate),
    permalink: `https://www.virustotal.com/file/${sha256}/analysis/${object.analysisDate}/`,
    verbose_msg: V2_MESSAGES.fileFound,
    total: object.verdicts.length,
    positives: object.outcome.malicious,
    sha256,
    md5: object.attributes.md5,
  };
}

const V2_URL_RESULTS: Record<EngineCategory, (v: EngineVerdict) => string> = {
  malicious: (v) => `${v.result ?? 'malicious'} site`,
  suspicious: () => 'suspicious site',
  harmless: () => 'clean site',
  undetected: () => 'unrated site',
  timeout: () => 'unrated site',
  'type-unsupported': () => 'unrated site',
};

/** v2 url/report for one resource. `scan` is the `scan=1` parameter (queue unknown URLs). */
export function v2UrlReport(object: SimulatedObject, resource: string, scan: boolean): Record<string, unknown> {
  const url = (object.attributes.url as string | undefined) ?? resource;
  if (object.outcome.status === 'not_found') {
    if (!scan) return { response_code: 0, resource, verbose_msg: V2_MESSAGES.urlNotFound };
    return {
      permalink: `https://www.virustotal.com/url/${object.id}/analysis/${object.analysisDate}/`,
      resource,
      url,
      response_code: 1,
      scan_date: scanDate(object.analysisDate),
      scan_id: `${object.id}-${object.analysisDate}`,
      verbose_msg: V2_MESSAGES.urlScanQueued,
    };
  }
  if (object.outcome.status === 'queued') return { response_code: -2, resource, scan_id: `${object.id}-${object.analysisDate}`, verbose_msg: V2_MESSAGES.queued };
  const scans: Record<string, unknown> = {};
  for (const verdict of object.verdicts) scans[verdict.engine] = { detected: verdict.category === 'malicious', result: V2_URL_RESULTS[verdict.category](verdict) };
  return {
    scan_id: `${object.id}-${object.analysisDate}`,
    resource,
    url,
    response_code: 1,
    scan_date: scanDate(object.analysisDate),
    permalink: `https://www.virustotal.com/url/${object.id}/analysis/${object.analysisDate}/`,
    verbose_msg: V2_MESSAGES.urlFound,
    filescan_id: null,
    positives: object.outcome.malicious,
    total: object.verdicts.length,
    scans,
  };
}

function samples(rng: SeededRandom, count: number, detected: boolean, date: number): Array<Record<string, unknown>> {
  return Array.from({ length: count }, () => {
    const total = rng.int(60, 75);
    return { date: scanDate(date - rng.int(0, 200 * DAY)), positives: detected ? rng.int(1, Math.floor(total * 0.8)) : 0, total, sha256: rng.hex(64) };
  });
}

/**
 * The parts of v2 domain and IP reports that carry the verdict. The worst `detected_urls` entry
 * (highest positives/total) is exactly malicious/total, so a v2 client reaches the same rate the
 * v3 counts give; clean infrastructure still has detected communicating samples, as real popular
 * hosts (8.8.8.8, github.com) do.
 */
function infrastructureReport(object: SimulatedObject, host: string): Record<string, unknown> {
  const rng = new SeededRandom(digest('v2', object.kind, object.id));
  const { malicious, total } = object.outcome;
  const date = object.analysisDate;
  const path = () => rng.pick(['/', '/login.php', '/wp-admin/x.exe', '/download/setup.exe', '/index.html', '/files/doc.zip', '/verify/account']);
  const detectedUrls: Array<Record<string, unknown>> = [];
  if (malicious > 0) {
    detectedUrls.push({ url: `http://${host}${path()}`, positives: malicious, total, scan_date: scanDate(date) });
    const more = rng.int(0, 4);
    for (let i = 0; i < more; i++) {
      // positives <= malicious and total >= total keep every other rate at or below the selected one.
      detectedUrls.push({ url: `http://${host}${path()}?id=${rng.int(1, 9999)}`, positives: rng.int(1, malicious), total: total + rng.int(0, 4), scan_date: scanDate(date - rng.int(DAY, 300 * DAY)) });
    }
  }
  const undetectedUrls = Array.from({ length: rng.int(1, 4) }, () => [`http://${host}/${rng.hex(6)}`, rng.hex(64), 0, rng.int(60, 90), scanDate(date - rng.int(0, 300 * DAY))]);
  return {
    undetected_urls: undetectedUrls,
    detected_downloaded_samples: samples(rng, malicious > 0 ? rng.int(1, 4) : rng.int(0, 1), true, date),
    undetected_downloaded_samples: samples(rng, rng.int(1, 3), false, date),
    detected_communicating_samples: samples(rng, malicious > 0 ? rng.int(3, 8) : rng.int(1, 3), true, date),
    undetected_communicating_samples: samples(rng, rng.int(1, 3), false, date),
    detected_urls: detectedUrls,
  };
}

/** v2 domain/report. */
export function v2DomainReport(object: SimulatedObject): Record<string, unknown> {
  if (object.outcome.status !== 'found') return { response_code: 0, verbose_msg: V2_MESSAGES.domainNotFound };
  const rng = new SeededRandom(digest('v2-domain', object.id));
  const categories = object.attributes.categories as Record<string, string>;
  const dns = (object.attributes.last_dns_records as Array<{ type: string; value: string }>)[0]?.value ?? '192.0.2.1';
  return {
    'BitDefender category': categories.BitDefender,
    whois_timestamp: object.attributes.whois_date,
    ...infrastructureReport(object, object.id),
    'Forcepoint ThreatSeeker category': categories['Forcepoint ThreatSeeker'],
    'Websense ThreatSeeker category': categories['Forcepoint ThreatSeeker'],
    resolutions: [
      { last_resolved: scanDate(object.analysisDate), ip_address: dns },
      { last_resolved: scanDate(object.analysisDate - rng.int(30 * DAY, 400 * DAY)), ip_address: `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}` },
    ],
    categories: [...new Set(Object.values(categories))],
    subdomains: [],
    domain_siblings: [],
    whois: object.attributes.whois,
    response_code: 1,
    verbose_msg: V2_MESSAGES.domainFound,
  };
}

/** v2 ip-address/report. */
export function v2IpReport(object: SimulatedObject): Record<string, unknown> {
  if (object.outcome.status !== 'found') return { response_code: 0, verbose_msg: V2_MESSAGES.ipNotFound };
  const rng = new SeededRandom(digest('v2-ip', object.id));
  const host = object.id.includes(':') ? `[${object.id}]` : object.id;
  return {
    asn: object.attributes.asn,
    whois_timestamp: object.attributes.whois_date,
    ...infrastructureReport(object, host),
    resolutions: Array.from({ length: rng.int(1, 3) }, () => ({
      last_resolved: scanDate(object.analysisDate - rng.int(0, 400 * DAY)),
      hostname: `${rng.pick(['mail', 'www', 'host', 'static', 'cdn'])}${rng.int(1, 99)}.${rng.pick(['example-hosting.net', 'cloudsrv.io', 'dyn-ip.org'])}`,
    })),
    continent: object.attributes.continent,
    whois: object.attributes.whois,
    network: object.attributes.network,
    country: object.attributes.country,
    response_code: 1,
    as_owner: object.attributes.as_owner,
    verbose_msg: V2_MESSAGES.ipFound,
  };
}
