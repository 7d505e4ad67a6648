import { UpstreamError, type Entity, type Observable, type ObservableType, type ProviderOutcome, type Reason } from '@x/core';
import * as z from 'zod';
import { assessInfection, formatRate, type DetectionRatio, type InfectionAssessment } from './infection-rate.js';
import type { InfectionRateThresholds, MappingOptions } from './options.js';

/**
 * Pure mapping from VirusTotal v2 report bodies to provider outcomes. No I/O: the real captures
 * under test/fixtures exercise it directly. Only the fields a decision needs are strict; the
 * rest are read leniently because v2 shapes drifted between 2014 and 2019 (asn string vs number,
 * vendor keys appearing and disappearing).
 */

/** The v2 endpoint family an observable type is looked up with. */
export type V2ReportKind = 'file' | 'url' | 'domain' | 'ip-address';

const REPORT_KIND: Partial<Record<ObservableType, V2ReportKind>> = {
  md5: 'file',
  sha1: 'file',
  sha256: 'file',
  url: 'url',
  domain: 'domain',
  ipv4: 'ip-address',
};

/** Which report endpoint serves a type; undefined for types v2 cannot look up (ipv6). */
export function reportKindFor(type: ObservableType): V2ReportKind | undefined {
  return REPORT_KIND[type];
}

/** The name the seed's enricher gives a type in entity names (`url` is `uri` there). */
const ENTITY_TYPE_NAME: Partial<Record<ObservableType, string>> = { domain: 'domain', ipv4: 'ipv4', url: 'uri' };

// The report schemas are built on the first upstream answer, not at import: a cached lookup
// never parses a body, and building them is milliseconds of every cold start (issue 16).
function buildSchemas() {
  const zEnvelope = z.looseObject({
    response_code: z.number().int(),
    verbose_msg: z.string().optional().catch(undefined),
    resource: z.string().optional().catch(undefined),
  });

  const lenientString = z.string().nullish().catch(undefined);
  const lenientArray = z.array(z.unknown()).optional().catch(undefined);

  const zScanReport = z.looseObject({
    positives: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
    scan_date: lenientString,
    scan_id: lenientString,
    permalink: lenientString,
  });

  const zEngineVerdict = z.looseObject({
    detected: z.boolean().nullish().catch(undefined),
    result: z.string().nullish().catch(undefined),
  });

  const zFileReport = zScanReport.extend({
    md5: lenientString,
    sha1: lenientString,
    sha256: lenientString,
    scans: z.record(z.string(), z.unknown()).optional().catch(undefined),
  });

  const zUrlReport = zScanReport.extend({
    url: lenientString,
    filescan_id: lenientString,
  });

  const zDetectedUrl = z.looseObject({
    url: z.string(),
    positives: z.number().nonnegative(),
    total: z.number().nonnegative(),
    scan_date: lenientString,
  });
  const zHostReport = z.looseObject({
    detected_urls: lenientArray,
    undetected_urls: lenientArray,
    resolutions: lenientArray,
    detected_communicating_samples: lenientArray,
    undetected_communicating_samples: lenientArray,
    detected_downloaded_samples: lenientArray,
    undetected_downloaded_samples: lenientArray,
    detected_referrer_samples: lenientArray,
    undetected_referrer_samples: lenientArray,
  });

  const zDomainReport = zHostReport.extend({
    categories: z.array(z.string()).optional().catch(undefined),
    subdomains: lenientArray,
    domain_siblings: lenientArray,
    whois_timestamp: z.number().nullish().catch(undefined),
  });

  const zIpReport = zHostReport.extend({
    asn: z.union([z.string(), z.number()]).nullish().catch(undefined),
    as_owner: lenientString,
    country: lenientString,
    continent: lenientString,
    network: lenientString,
  });

  return { zEnvelope, zScanReport, zEngineVerdict, zFileReport, zUrlReport, zDetectedUrl, zHostReport, zDomainReport, zIpReport };
}

type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;
/** The report schemas, built once on first use. */
function schemas(): Schemas {
  built ??= buildSchemas();
  return built;
}

type DetectedUrl = z.output<Schemas['zDetectedUrl']>;

function badResponse(observable: Observable, what: string): UpstreamError {
  return new UpstreamError('bad_response', `VirusTotal v2 returned an unusable ${reportKindFor(observable.type) ?? observable.type} report for ${observable.type} ${observable.value}: ${what}`);
}

function parseOrThrow<T extends z.ZodType>(schema: T, body: unknown, observable: Observable): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  throw badResponse(observable, `${where}${first?.message ?? 'unexpected shape'}`);
}

/** v2 dates are `YYYY-MM-DD HH:MM:SS` in UTC; results use ISO 8601. Unknown formats pass through. */
export function toIsoDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(value);
  return match ? `${match[1]}T${match[2]}Z` : value;
}

const count = (list: unknown[] | undefined): number => list?.length ?? 0;

const envelopeReason = (code: number, message: string | undefined): Reason => ({
  rule: `response_code=${code}`,
  message: message ?? `VirusTotal v2 answered response_code ${code}.`,
  values: { responseCode: code },
});

/**
 * Maps one v2 report body (an element of a batch answer, or a single answer) for `observable`.
 * response_code 0 -> not_found; -2 (and the `1` that url/report returns for a freshly queued
 * scan without results) -> pending; 1 -> found with verdict, confidence, fields and entities.
 * Throws `UpstreamError` (`bad_request` for -1, `bad_response` for anything unreadable).
 */
export function mapV2Report(observable: Observable, body: unknown, thresholds: MappingOptions): ProviderOutcome {
  const kind = reportKindFor(observable.type);
  if (!kind) throw new UpstreamError('bad_request', `VirusTotal v2 cannot look up ${observable.type} observables`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badResponse(observable, 'expected a JSON object');
  const envelope = parseOrThrow(schemas().zEnvelope, body, observable);
  const code = envelope.response_code;

  if (code === 0) return { kind: 'not_found', reasons: [envelopeReason(0, envelope.verbose_msg)], raw: body };
  if (code === -2) return { kind: 'pending', reasons: [envelopeReason(-2, envelope.verbose_msg)], raw: body };
  if (code === -1) {
    throw new UpstreamError('bad_request', `VirusTotal v2 rejected the ${kind} lookup of ${observable.value}: ${envelope.verbose_msg ?? 'response_code -1'}`, { upstreamCode: '-1' });
  }
  if (code !== 1) throw badResponse(observable, `unexpected response_code ${code}`);

  // url/report (and file/report right after an upload) can answer 1 "successfully queued"
  // before any engine ran: there is nothing to judge yet, so it is pending, not benign.
  const record = body as Record<string, unknown>;
  if ((kind === 'file' || kind === 'url') && record.positives === undefined && record.total === undefined && /queued/i.test(envelope.verbose_msg ?? '')) {
    return { kind: 'pending', reasons: [envelopeReason(1, envelope.verbose_msg)], raw: body };
  }

  switch (kind) {
    case 'file':
      return mapFileReport(observable, parseOrThrow(schemas().zFileReport, body, observable), thresholds, body);
    case 'url':
      return mapUrlReport(observable, parseOrThrow(schemas().zUrlReport, body, observable), thresholds, body);
    case 'domain':
      return mapDomainReport(observable, parseOrThrow(schemas().zDomainReport, body, observable), thresholds, body);
    case 'ip-address':
      return mapIpReport(observable, parseOrThrow(schemas().zIpReport, body, observable), thresholds, body);
  }
}

/** Distinct detection names of a file scan, each with the engines that reported it (sorted: most engines first). */
export function detectionNames(scans: Record<string, unknown> | undefined): Array<{ name: string; engines: string[] }> {
  const byName = new Map<string, string[]>();
  for (const [engine, value] of Object.entries(scans ?? {})) {
    const verdict = schemas().zEngineVerdict.safeParse(value);
    if (!verdict.success) continue;
    const name = verdict.data.result?.trim();
    // `result` is null when an engine did not detect; `detected: false` with a name never happens
    // in the captures, but a name without detection is not a detection.
    if (!name || verdict.data.detected === false) continue;
    const engines = byName.get(name) ?? [];
    engines.push(engine);
    byName.set(name, engines);
  }
  return [...byName]
    .map(([name, engines]) => ({ name, engines: engines.sort() }))
    .sort((a, b) => b.engines.length - a.engines.length || a.name.localeCompare(b.name));
}

function scanFields(assessment: InfectionAssessment, report: z.output<Schemas['zScanReport']>) {
  return {
    infectionRate: assessment.rate,
    positives: report.positives,
    total: report.total,
    scanDate: toIsoDate(report.scan_date),
    scanId: report.scan_id ?? null,
    permalink: report.permalink ?? null,
  };
}

function mapFileReport(observable: Observable, report: z.output<Schemas['zFileReport']>, thresholds: InfectionRateThresholds, raw: unknown): ProviderOutcome {
  const assessment = assessInfection(report, thresholds, 'the file');
  const detections = detectionNames(report.scans);
  const fields = scanFields(assessment, report);
  const extracted = {
    ...fields,
    md5: report.md5 ?? null,
    sha1: report.sha1 ?? null,
    sha256: report.sha256 ?? null,
    detectionNames: detections.map((detection) => detection.name),
  };
  const entities: Entity[] = detections.map((detection) => ({
    type: 'ttp',
    name: detection.name,
    engines: detection.engines,
    engineCount: detection.engines.length,
    observable: { type: observable.type, value: observable.value },
    sha256: extracted.sha256,
    scanDate: fields.scanDate,
    permalink: fields.permalink,
  }));
  return { kind: 'found', verdict: assessment.verdict, confidence: assessment.confidence, reasons: assessment.reasons, extracted, entities, raw };
}

function indicator(observable: Observable, assessment: InfectionAssessment, fields: Record<string, unknown>): Entity {
  return {
    type: 'indicator',
    name: `Indicator of ${ENTITY_TYPE_NAME[observable.type] ?? observable.type}: ${observable.value}`,
    observable: { type: observable.type, value: observable.value },
    verdict: assessment.verdict,
    confidence: assessment.confidence,
    // Under `fields`, as the v3 provider does: one shape for hosts, and no field can shadow type or name.
    fields,
  };
}

/** A URL, domain or IP outcome: the assessment, its fields, and one indicator entity carrying them. */
function foundWithIndicator(observable: Observable, assessment: InfectionAssessment, extracted: Record<string, unknown>, raw: unknown): ProviderOutcome {
  return {
    kind: 'found',
    verdict: assessment.verdict,
    confidence: assessment.confidence,
    reasons: assessment.reasons,
    extracted,
    entities: [indicator(observable, assessment, extracted)],
    raw,
  };
}

function mapUrlReport(observable: Observable, report: z.output<Schemas['zUrlReport']>, thresholds: InfectionRateThresholds, raw: unknown): ProviderOutcome {
  const assessment = assessInfection(report, thresholds, 'the URL');
  const extracted = { ...scanFields(assessment, report), url: report.url ?? observable.value, filescanId: report.filescan_id ?? null };
  return foundWithIndicator(observable, assessment, extracted, raw);
}

/** The detected URL with the highest infection rate (ties: the most positives, then the latest scan). */
export function worstDetectedUrl(detectedUrls: unknown[] | undefined): DetectedUrl | undefined {
  let worst: { url: DetectedUrl; rate: number } | undefined;
  for (const item of detectedUrls ?? []) {
    const parsed = schemas().zDetectedUrl.safeParse(item);
    if (!parsed.success || !(parsed.data.total > 0)) continue;
    const rate = (parsed.data.positives * 100) / parsed.data.total;
    if (
      !worst ||
      rate > worst.rate ||
      (rate === worst.rate && parsed.data.positives > worst.url.positives) ||
      (rate === worst.rate && parsed.data.positives === worst.url.positives && (parsed.data.scan_date ?? '') > (worst.url.scan_date ?? ''))
    ) {
      worst = { url: parsed.data, rate };
    }
  }
  return worst?.url;
}

/**
 * Domains and IPs have no scan of their own. Their rate is the worst rate among the URLs
 * VirusTotal saw on the host; samples that merely contacted, downloaded from or referred to the
 * host are counted but do not raise it, because malware contacts clean infrastructure
 * (8.8.8.8, python.org) all the time.
 */
function assessHost(report: z.output<Schemas['zHostReport']>, options: MappingOptions): { assessment: InfectionAssessment; worst: DetectedUrl | undefined } {
  const worst = worstDetectedUrl(report.detected_urls);
  const assessment = options.hostVerdict === 'unrated' ? unrated(worst) : worstUrlAssessment(report, worst, options);
  const samples = {
    detectedCommunicatingSamples: count(report.detected_communicating_samples),
    detectedDownloadedSamples: count(report.detected_downloaded_samples),
    detectedReferrerSamples: count(report.detected_referrer_samples),
  };
  const sampleTotal = samples.detectedCommunicatingSamples + samples.detectedDownloadedSamples + samples.detectedReferrerSamples;
  if (sampleTotal > 0) {
    assessment.reasons.push({
      rule: 'detected_samples_not_scored',
      message: `${sampleTotal} detected samples communicate with, were downloaded from or refer to this host (counted, not scored: malware also contacts clean infrastructure).`,
      values: samples,
    });
  }
  return { assessment, worst };
}

/**
 * The EclecticIQ rule: the host's rate is its worst detected URL's. With
 * `hostMinUrlInfectionRate`, URLs below that rate are left out first (noise on popular hosts).
 */
function worstUrlAssessment(report: z.output<Schemas['zHostReport']>, worst: DetectedUrl | undefined, options: MappingOptions): InfectionAssessment {
  const minimum = options.hostMinUrlInfectionRate ?? 0;
  const counted = minimum > 0 ? worstDetectedUrl((report.detected_urls ?? []).filter((item) => rateOf(item) >= minimum)) : worst;
  const ratio: DetectionRatio = counted ? { positives: counted.positives, total: counted.total } : { positives: 0, total: 0 };
  const subject = counted ? `its worst detected URL ${counted.url}` : minimum > 0 && worst ? `any URL seen on this host at ${minimum}% or more` : 'any URL seen on this host';
  const assessment = assessInfection(ratio, options, subject);
  if (worst && !counted) {
    assessment.reasons.push({
      rule: 'host_urls_below_minimum',
      message: `Its worst detected URL ${worst.url} (${worst.positives}/${worst.total} engines, ${formatRate(rateOf(worst))}) is below hostMinUrlInfectionRate (${minimum}%), so no URL counted.`,
      values: { worstUrlInfectionRate: rateOf(worst), hostMinUrlInfectionRate: minimum },
    });
  }
  return assessment;
}

/** hostVerdict unrated: the report's fields without a verdict. */
function unrated(worst: DetectedUrl | undefined): InfectionAssessment {
  return {
    verdict: 'unknown',
    confidence: null,
    rate: worst ? rateOf(worst) : 0,
    positives: worst?.positives ?? 0,
    total: worst?.total ?? 0,
    reasons: [{ rule: 'host_not_rated', message: 'hostVerdict is unrated: VirusTotal v2 has no scan of a domain or IP of its own, so no verdict is given (the report\'s fields are kept).' }],
  };
}

function rateOf(item: unknown): number {
  const parsed = schemas().zDetectedUrl.safeParse(item);
  return parsed.success && parsed.data.total > 0 ? (parsed.data.positives * 100) / parsed.data.total : 0;
}

function hostFields(report: z.output<Schemas['zHostReport']>, assessment: InfectionAssessment, worst: DetectedUrl | undefined, permalink: string) {
  return {
    infectionRate: assessment.rate,
    positives: assessment.positives,
    total: assessment.total,
    worstDetectedUrl: worst ? { url: worst.url, positives: worst.positives, total: worst.total, scanDate: toIsoDate(worst.scan_date) } : null,
    scanDate: toIsoDate(worst?.scan_date),
    permalink,
    resolutionsCount: count(report.resolutions),
    detectedUrlsCount: count(report.detected_urls),
    undetectedUrlsCount: count(report.undetected_urls),
    detectedCommunicatingSamplesCount: count(report.detected_communicating_samples),
    undetectedCommunicatingSamplesCount: count(report.undetected_communicating_samples),
    detectedDownloadedSamplesCount: count(report.detected_downloaded_samples),
    undetectedDownloadedSamplesCount: count(report.undetected_downloaded_samples),
    detectedReferrerSamplesCount: count(report.detected_referrer_samples),
    undetectedReferrerSamplesCount: count(report.undetected_referrer_samples),
  };
}

/** Vendor categories from keys like `"BitDefender category": "computersandsoftware"`. */
function vendorCategories(report: Record<string, unknown>): Record<string, string> {
  const categories: Record<string, string> = {};
  for (const [key, value] of Object.entries(report)) {
    const match = /^(.+) category$/.exec(key);
    if (match?.[1] && typeof value === 'string') categories[match[1]] = value;
  }
  return categories;
}

function mapDomainReport(observable: Observable, report: z.output<Schemas['zDomainReport']>, thresholds: MappingOptions, raw: unknown): ProviderOutcome {
  const { assessment, worst } = assessHost(report, thresholds);
  const permalink = `https://www.virustotal.com/gui/domain/${encodeURIComponent(observable.value)}`;
  const extracted = {
    ...hostFields(report, assessment, worst, permalink),
    categories: report.categories ?? [],
    vendorCategories: vendorCategories(report),
    subdomainsCount: count(report.subdomains),
    siblingsCount: count(report.domain_siblings),
    whoisDate: typeof report.whois_timestamp === 'number' ? new Date(report.whois_timestamp * 1000).toISOString() : null,
  };
  return foundWithIndicator(observable, assessment, extracted, raw);
}

function mapIpReport(observable: Observable, report: z.output<Schemas['zIpReport']>, thresholds: MappingOptions, raw: unknown): ProviderOutcome {
  const { assessment, worst } = assessHost(report, thresholds);
  const permalink = `https://www.virustotal.com/gui/ip-address/${encodeURIComponent(observable.value)}`;
  const extracted = {
    ...hostFields(report, assessment, worst, permalink),
    // `asn` is a string in 2014 captures and a number in 2019 ones; results always use a number.
    asn: report.asn === undefined || report.asn === null || report.asn === '' || Number.isNaN(Number(report.asn)) ? null : Number(report.asn),
    asOwner: report.as_owner ?? null,
    country: report.country ?? null,
    continent: report.continent ?? null,
    network: report.network ?? null,
    categories: [] as string[],
  };
  return foundWithIndicator(observable, assessment, extracted, raw);
}

/**
 * Picks each input's report out of a batched file/report or url/report answer. VirusTotal
 * answers a single resource with an object and several with an array, in request order, each
 * echoing the `resource` it was asked for. Matching is by `resource` (case-insensitive for
 * hashes), falling back to position for an entry without `resource` when the answer has
 * exactly one entry per request.
 * Returns undefined for an input the answer does not cover.
 */
export function splitBatchAnswer(resources: readonly string[], body: unknown, caseInsensitive: boolean): Array<unknown | undefined> {
  const entries = Array.isArray(body) ? body : [body];
  const key = (value: string) => (caseInsensitive ? value.toLowerCase() : value);
  const byResource = new Map<string, unknown>();
  for (const entry of entries) {
    const resource = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>).resource : undefined;
    if (typeof resource === 'string' && !byResource.has(key(resource))) byResource.set(key(resource), entry);
  }
  // Position is only trusted for an entry that does not name its resource at all.
  const positional = (index: number) => {
    const entry: unknown = entries.length === resources.length ? entries[index] : undefined;
    const named = typeof entry === 'object' && entry !== null && typeof (entry as Record<string, unknown>).resource === 'string';
    return named ? undefined : entry;
  };
  return resources.map((resource, index) => byResource.get(key(resource)) ?? positional(index));
}
