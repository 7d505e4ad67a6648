import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, type FaultPlan } from './faults.js';
import { fixtureKey, loadFixtures, type FixtureIndex } from './fixtures.js';
import { yaraRuleset, type DepthControl } from './extras.js';
import { deriveFileHashes, simulate, v2DomainReport, v2FileReport, v2IpReport, v2UrlReport, v3Document, v3Json, V2_MESSAGES, type SimulatedObject } from './generate.js';
import { canonicalUrl, decodeUrlId, hashKind, ipVersion, isValidDomain, urlSha256, type ObjectKind } from './observables.js';
import { decodeCursor, DEFAULT_LIMIT, encodeCursor, MAX_LIMIT, RELATIONSHIPS, relatedItems, type RelatedItem } from './relationships.js';
import { parseFaults, parseSimulatorOptions, type Faults, type FaultsInput, type SimulatorOptions, type SimulatorOptionsInput } from './options.js';
import { outcomeFor, seededOutcome, reservedOutcome, type Outcome } from './outcome.js';
import { QuotaTracker } from './quota.js';
import { keyFingerprint, StatsRecorder, type SimulatorStats } from './stats.js';

/** A running simulator. */
export interface Simulator {
  /** `http://host:port` (the root; `/__sim/*` lives here). */
  url: string;
  /** `${url}/api/v3`: the v3 base URL to give a client. */
  v3Url: string;
  /** `${url}/vtapi/v2`: the v2 base URL to give a client. */
  v2Url: string;
  port: number;
  host: string;
  /** A copy of the counters (same as `GET /__sim/stats`). */
  stats(): SimulatorStats;
  /** Clears counters and quotas and reseeds the fault PRNG (same as `POST /__sim/reset`). */
  reset(): void;
  /** Replaces the faults (missing fields take their defaults, so `{}` clears them) and reseeds the fault PRNG. */
  setFaults(faults: FaultsInput): Faults;
  /** The faults in force. */
  faults(): Faults;
  /** Captured responses that answer an observable an earlier capture already answers (the first is kept). */
  fixtureDuplicates(): Array<{ api: 'v3' | 'v2'; key: string; kept: string; ignored: string }>;
  /** Stops listening and destroys open connections. */
  close(): Promise<void>;
}

interface Reply {
  status: number;
  /** A Buffer for cached bodies (no copy per request), a string otherwise. */
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const MAX_BODY = 1_048_576;

const v3Error = (status: number, code: string, message: string): Reply => ({ status, body: JSON.stringify({ error: { code, message } }, null, 2), contentType: JSON_TYPE });
const json = (value: unknown): Reply => ({ status: 200, body: JSON.stringify(value), contentType: JSON_TYPE });
const empty = (status: number): Reply => ({ status, body: '', contentType: HTML_TYPE });

/** A bounded Map that forgets its oldest entries: generated objects are cheap to rebuild. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (this.size >= this.limit && !this.has(key)) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return readBytes(req).then((bytes) => bytes.toString('utf8'));
}

function readBytes(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * A form body as parameters: `application/x-www-form-urlencoded`, or `multipart/form-data` (what
 * v2 `file/scan` uploads and many clients send, with `apikey` as one of the parts; file parts
 * are skipped). Multipart is parsed by Node's own fetch implementation (undici), no dependency.
 */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers['content-type'] ?? '';
  const bytes = await readBytes(req);
  if (!/^multipart\/form-data/i.test(type)) return new URLSearchParams(bytes.toString('utf8'));
  const form = await new Response(bytes, { headers: { 'content-type': type } }).formData();
  const params = new URLSearchParams();
  for (const [name, value] of form) if (typeof value === 'string') params.append(name, value);
  return params;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The `depth` option's key for an observable value: its kind (guessed from the value) and identity. */
function controlKey(value: string): string {
  const text = value.trim();
  if (ipVersion(text)) return `ip_address|${text.toLowerCase()}`;
  if (hashKind(text)) return `file|${text.toLowerCase()}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return `url|${urlSha256(text)}`;
  return `domain|${text.toLowerCase().replace(/\.$/, '')}`;
}

/**
 * Starts a VirusTotal API v3 (`/api/v3`) and v2 (`/vtapi/v2`) simulator on `host:port`
 * (port 0: an ephemeral port, read it from `url`). Options are validated first; fixture folders
 * are loaded before it listens. Always `close()` it (tests: in `afterAll`).
 */
export async function startSimulator(input: SimulatorOptionsInput = {}): Promise<Simulator> {
  const options: SimulatorOptions = parseSimulatorOptions(input);
  const dirs = options.fixturesDir === undefined ? [] : Array.isArray(options.fixturesDir) ? options.fixturesDir : [options.fixturesDir];
  const fixtures: FixtureIndex = await loadFixtures(dirs, options.fixtures);
  const anyKey = options.apiKeys.includes('*');
  const keys = new Set(options.apiKeys);
  const quotas = new QuotaTracker(options.quotas, options.quotaMode);
  let injectedRefusals = options.faults.quotaRefusals;
  /** Consumes one injected refusal (`faults.quotaRefusals`), if any is left. */
  const refuseInjected = (): boolean => {
    if (injectedRefusals <= 0) return false;
    injectedRefusals -= 1;
    stats.fault('quota_refusal');
    return true;
  };
  const quotaRefusal = (_key: string): Reply => {
    const retryAfter = faults.current().quotaRetryAfterS;
    return { ...v3Error(429, 'QuotaExceededError', 'Quota exceeded'), ...(retryAfter !== undefined ? { headers: { 'retry-after': String(retryAfter) } } : {}) };
  };
  const faults = new FaultInjector(options.faults, options.seed);
  const stats = new StatsRecorder(fixtures.loaded.length);
  const seed = options.seed;

  // Generated objects and serialised v3 bodies, by kind and identity. Data is a pure function of
  // (seed, observable), so caching changes nothing but speed. Sizes keep memory in the low
  // hundreds of MB at worst: objects (~30 KB of small JS objects each, costly for the GC) are
  // kept briefly, serialised bodies (Buffers, outside the JS heap) longer.
  const objects = new BoundedMap<string, SimulatedObject>(2_000);
  const v3Bodies = new BoundedMap<string, Buffer | null>(10_000);
  // Aliases learnt from generated objects: a file's other hashes -> the hash it was generated
  // from, a URL's SHA-256 -> the URL, so a later lookup by either id finds the same object.
  // Serialised v2 reports by endpoint and resource as sent (reports echo it); batches join them.
  const v2Parts = new BoundedMap<string, string>(5_000);
  const fileAliases = new BoundedMap<string, string>(100_000);
  const urlsBySha = new BoundedMap<string, string>(100_000);

  // Per-observable GTI / sandbox / IDS / Sigma / YARA controls (option `depth`), by kind and value.
  const depthControls = new Map<string, DepthControl>();
  for (const { value, ...control } of options.depth) depthControls.set(controlKey(value), control);
  const depthFor = (kind: ObjectKind, ...values: string[]) => ({ gti: options.gti, control: values.map((value) => depthControls.get(`${kind}|${value.toLowerCase()}`)).find(Boolean) });
  const nowSeconds = () => Math.floor((options.now ?? Date.now)() / 1000);
  // Reanalyses asked for (POST /urls, POST /files/{id}/analyse): object key -> when, in unix
  // seconds. The object is then served with that last_analysis_date.
  const reanalysed = new BoundedMap<string, number>(100_000);
  // Analyses by id: what was analysed and whether it is done.
  const analyses = new BoundedMap<string, { kind: ObjectKind; value: string; date: number; status: 'completed' | 'queued' }>(100_000);

  const isKnownKey = (key: string | undefined): boolean => !!key && (anyKey || keys.has(key));
  const fingerprints = new BoundedMap<string, string>(1_000);
  const fingerprint = (key: string | undefined): string => {
    if (!key) return keyFingerprint(key);
    let value = fingerprints.get(key);
    if (value === undefined) fingerprints.set(key, (value = keyFingerprint(key)));
    return value;
  };

  function objectFor(kind: ObjectKind, value: string): SimulatedObject {
    const cacheKey = `${kind}|${value}`;
    const cached = objects.get(cacheKey);
    if (cached) return cached;
    let object: SimulatedObject;
    if (kind === 'file') {
      const identity = fileAliases.get(value) ?? value;
      const outcome = outcomeFor(seed, 'file', identity, identity);
      const hashes = deriveFileHashes(seed, identity, outcome);
      for (const hash of [hashes.md5, hashes.sha1, hashes.sha256]) fileAliases.set(hash, identity);
      object = simulate(seed, 'file', hashes.sha256, identity, identity, outcome, hashes, depthFor('file', identity, hashes.md5, hashes.sha1, hashes.sha256));
    } else if (kind === 'url') {
      // `value` is the URL's SHA-256; the URL itself is known when it was seen before.
      const url = urlsBySha.get(value);
      const outcome: Outcome = (url ? reservedOutcome('url', url) : undefined) ?? seededOutcome(seed, 'url', value);
      object = simulate(seed, 'url', value, url, value, outcome, undefined, depthFor('url', value));
    } else {
      object = simulate(seed, kind, value, value, value, outcomeFor(seed, kind, value, value), undefined, depthFor(kind, value));
    }
    objects.set(cacheKey, object);
    return object;
  }

  function rememberUrl(url: string): string {
    const canonical = canonicalUrl(url);
    const sha = urlSha256(canonical);
    if (!urlsBySha.has(sha)) {
      urlsBySha.set(sha, canonical);
      objects.delete(`url|${sha}`);
      v3Bodies.delete(`url|${sha}`);
    }
    return sha;
  }

  // ------------------------------------------------------------------ v3

  const V3_COLLECTIONS: Record<string, ObjectKind> = { ip_addresses: 'ip_address', domains: 'domain', files: 'file', urls: 'url' };
  const V3_PATHS: Record<ObjectKind, string> = { ip_address: 'ip_addresses', domain: 'domains', file: 'files', url: 'urls' };

  /** The object value an id stands for, or the error reply the real API gives for the id. */
  function resolveId(kind: ObjectKind, rawId: string): { value: string; notFound: Reply } | Reply {
    const notFound = (message: string): Reply => v3Error(404, 'NotFoundError', message);
    switch (kind) {
      case 'ip_address':
        if (!ipVersion(rawId)) return v3Error(400, 'InvalidArgumentError', `IP address "${rawId}" is not a valid IP address`);
        return { value: rawId.toLowerCase(), notFound: notFound(`IP address "${rawId}" not found`) };
      case 'domain':
        if (!isValidDomain(rawId)) return v3Error(400, 'InvalidArgumentError', `Domain "${rawId}" is not a valid domain pattern`);
        return { value: rawId.toLowerCase().replace(/\.$/, ''), notFound: notFound(`Domain "${rawId}" not found`) };
      case 'file':
        if (!hashKind(rawId)) return v3Error(400, 'InvalidArgumentError', `File "${rawId}" is not a valid md5, sha1 or sha256 hash`);
        return { value: rawId.toLowerCase(), notFound: notFound(`File "${rawId}" not found`) };
      case 'url': {
        const decoded = decodeUrlId(rawId);
        // Unlike the other kinds, the real API has no 400 for URL ids: an id that is neither a
        // SHA-256 nor base64 of a URL is just an id it does not know (capture
        // docs_example_error_404_NotFoundError_url.json: `URL "thisurlidmakesnosenseatall" not found`).
        if (!decoded) return notFound(`URL "${rawId}" not found`);
        return { value: decoded.url ? rememberUrl(decoded.url) : decoded.sha256, notFound: notFound(`URL "${rawId}" not found`) };
      }
    }
  }

  const isReply = (value: unknown): value is Reply => typeof (value as Reply).status === 'number';

  /**
   * The object's `data` as a value (the slow path: relationships, reanalyses and related
   * objects need it), or null when not found. Captures are served for their observables.
   */
  function objectData(kind: ObjectKind, value: string): Record<string, unknown> | null {
    const fixture = fixtures.v3.get(fixtureKey(kind, value)) as { data: Record<string, unknown> } | undefined;
    let data: Record<string, unknown>;
    if (fixture) data = structuredClone(fixture.data);
    else {
      const object = objectFor(kind, value);
      if (object.outcome.status === 'not_found') return null;
      data = v3Document(object).data as Record<string, unknown>;
    }
    const when = reanalysed.get(`${kind}|${value}`);
    if (when !== undefined) {
      const attributes: Record<string, unknown> = { ...(data.attributes as Record<string, unknown>), last_analysis_date: when };
      if (kind === 'file' || kind === 'url') attributes.last_submission_date = when;
      data = { ...data, attributes };
    }
    return data;
  }

  const selfLink = (kind: ObjectKind, id: string) => `https://www.virustotal.com/api/v3/${V3_PATHS[kind]}/${id}`;

  /** `{type, id}` descriptors, and for `?relationships=` the first page of each (the real API's limit there is 20). */
  function relationshipsBlock(kind: ObjectKind, value: string, data: Record<string, unknown>, names: string[]): Record<string, unknown> | Reply {
    const block: Record<string, unknown> = {};
    for (const name of names) {
      const spec = RELATIONSHIPS[kind][name];
      if (!spec) return v3Error(400, 'InvalidArgumentError', `Relationship "${name}" does not exist for ${kind} objects (simulated: ${Object.keys(RELATIONSHIPS[kind]).join(', ')})`);
      const items = itemsOf(kind, value, data, name);
      const id = String(data.id);
      const links = { self: `${selfLink(kind, id)}/relationships/${name}?limit=20`, related: `${selfLink(kind, id)}/${name}` };
      if (spec.one) block[name] = { data: items[0] ? descriptor(items[0]) : null, links };
      else block[name] = { data: items.slice(0, 20).map(descriptor), links, ...(items.length > 20 ? { meta: { cursor: encodeCursor(20) } } : {}) };
    }
    return block;
  }

  function itemsOf(kind: ObjectKind, value: string, data: Record<string, unknown>, name: string): RelatedItem[] {
    const attributes = (data.attributes ?? {}) as { last_analysis_stats?: Record<string, number>; url?: string };
    const detected = (attributes.last_analysis_stats?.malicious ?? 0) >= 5;
    const items = relatedItems(seed, kind, String(data.id ?? value), name, detected, attributes.url);
    for (const item of items) if (item.url) rememberUrl(item.url);
    return items;
  }

  const descriptor = (item: RelatedItem) => ({ type: item.type, id: item.id });

  /** A related object in full; an item VirusTotal does not have becomes the documented error item. */
  function relatedObject(item: RelatedItem): Record<string, unknown> {
    if (item.type === 'resolution') {
      const r = item.resolution!;
      return {
        type: 'resolution',
        id: item.id,
        links: { self: `https://www.virustotal.com/api/v3/resolutions/${item.id}` },
        attributes: { date: r.date, host_name: r.host, resolver: 'VirusTotal', ip_address: r.ip },
      };
    }
    const data = objectData(item.type, item.type === 'url' ? item.id : item.id.toLowerCase());
    if (data) return data;
    const label = { ip_address: 'IP address', domain: 'Domain', file: 'File', url: 'URL' }[item.type];
    return { error: { code: 'NotFoundError', message: `${label} "${item.id}" not found` }, id: item.id, type: item.type };
  }

  /** GET /{collection}/{id}/{relationship} (objects) or /{collection}/{id}/relationships/{relationship} (descriptors). */
  function v3Relationship(kind: ObjectKind, rawId: string, name: string, descriptorsOnly: boolean, params: URLSearchParams): Reply {
    const resolved = resolveId(kind, rawId);
    if (isReply(resolved)) return resolved;
    const spec = RELATIONSHIPS[kind][name];
    if (!spec) return notSimulated('GET', `${V3_PATHS[kind]}/${rawId}/${descriptorsOnly ? 'relationships/' : ''}${name}`);
    const data = objectData(kind, resolved.value);
    if (!data) return resolved.notFound;
    const items = itemsOf(kind, resolved.value, data, name);
    const base = `${selfLink(kind, String(data.id))}/${descriptorsOnly ? 'relationships/' : ''}${name}`;
    const render = (item: RelatedItem) => (descriptorsOnly ? descriptor(item) : relatedObject(item));
    if (spec.one) return json({ data: items[0] ? render(items[0]) : null, links: { self: base } });
    const limitText = params.get('limit');
    const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) return v3Error(400, 'InvalidArgumentError', `Invalid limit "${limitText}"`);
    const pageSize = Math.min(limit, MAX_LIMIT);
    const cursorText = params.get('cursor');
    const offset = cursorText ? decodeCursor(cursorText) : 0;
    if (offset === undefined) return v3Error(400, 'InvalidArgumentError', `Invalid cursor "${cursorText}"`);
    const page = items.slice(offset, offset + pageSize);
    const next = offset + pageSize < items.length ? encodeCursor(offset + pageSize) : undefined;
    const query = (cursor?: string) => `?${cursor ? `cursor=${encodeURIComponent(cursor)}&` : ''}limit=${pageSize}`;
    return json({
      meta: { count: items.length, ...(next ? { cursor: next } : {}) },
      data: page.map(render),
      links: { self: `${base}${query(cursorText ?? undefined)}`, ...(next ? { next: `${base}${query(next)}` } : {}) },
    });
  }

  function v3Object(kind: ObjectKind, rawId: string, params?: URLSearchParams): Reply {
    const resolved = resolveId(kind, rawId);
    if (isReply(resolved)) return resolved;
    const { value, notFound } = resolved;
    const cacheKey = `${kind}|${value}`;
    const names = (params?.get('relationships') ?? '').split(',').map((name) => name.trim()).filter(Boolean);
    if (names.length > 0 || reanalysed.has(cacheKey)) {
      // One request, one unit of quota, whatever relationships it asks for (as on VirusTotal).
      const data = objectData(kind, value);
      if (!data) return notFound;
      if (names.length === 0) return json({ data });
      const block = relationshipsBlock(kind, value, data, names);
      return isReply(block) ? block : json({ data: { ...data, relationships: block } });
    }
    const fixture = fixtures.v3.get(fixtureKey(kind, value));
    if (fixture) return json(fixture);
    const body = v3Bodies.get(cacheKey);
    if (body !== undefined) return body === null ? notFound : { status: 200, body, contentType: JSON_TYPE };
    const object = objectFor(kind, value);
    if (object.outcome.status === 'not_found') {
      v3Bodies.set(cacheKey, null);
      return notFound;
    }
    // A queued object is served as found with an empty analysis (no last_analysis_date, empty
    // results, zero stats), which is what v3 shows for a submitted, not yet analysed item.
    const serialised = Buffer.from(v3Json(object), 'utf8');
    v3Bodies.set(cacheKey, serialised);
    return { status: 200, body: serialised, contentType: JSON_TYPE };
  }

  /**
   * Starts an analysis: a found object is reanalysed at once (the next GET shows the new
   * last_analysis_date); a queued or unknown one stays queued. Answers the analysis descriptor,
   * as POST /urls and POST /files/{id}/analyse do.
   */
  function startAnalysis(kind: 'file' | 'url', value: string, id: string): Reply {
    const date = nowSeconds();
    const object = fixtures.v3.has(fixtureKey(kind, value)) ? undefined : objectFor(kind, value);
    const completed = object === undefined || object.outcome.status === 'found';
    if (completed) {
      reanalysed.set(`${kind}|${value}`, date);
      v3Bodies.delete(`${kind}|${value}`);
    }
    const analysisId = kind === 'url' ? `u-${value}-${date}` : Buffer.from(`${id}:${date}`, 'utf8').toString('base64');
    analyses.set(analysisId, { kind, value, date, status: completed ? 'completed' : 'queued' });
    return json({ data: { type: 'analysis', id: analysisId, links: { self: `https://www.virustotal.com/api/v3/analyses/${analysisId}` } } });
  }

  function v3AnalyseFile(rawId: string): Reply {
    const resolved = resolveId('file', rawId);
    if (isReply(resolved)) return resolved;
    const data = objectData('file', resolved.value);
    if (!data) return resolved.notFound;
    const md5 = (data.attributes as { md5?: string }).md5 ?? resolved.value;
    return startAnalysis('file', resolved.value, md5);
  }

  function v3SubmitUrl(form: URLSearchParams): Reply {
    const url = form.get('url')?.trim();
    if (!url) return v3Error(400, 'BadRequestError', 'The "url" parameter is missing');
    const decoded = decodeUrlId(Buffer.from(canonicalUrl(url), 'utf8').toString('base64url'));
    if (!decoded?.url) return v3Error(400, 'InvalidArgumentError', `Unable to canonicalize url "${url}"`);
    const sha = rememberUrl(decoded.url);
    return startAnalysis('url', sha, sha);
  }

  /** GET /analyses/{id}: results and stats of the analysis, with meta.url_info / meta.file_info. */
  function v3Analysis(id: string): Reply {
    let analysis = analyses.get(id);
    if (!analysis) {
      // Ids that follow VirusTotal's forms (u-<sha256>-<ts>, base64 of <md5>:<ts>) name the
      // object's analysis at that time even when this simulator did not start it.
      const urlForm = /^u-([0-9a-f]{64})-(\d+)$/.exec(id);
      const fileForm = /^([0-9a-f]{32}):(\d+)$/.exec(Buffer.from(id, 'base64').toString('utf8'));
      if (urlForm) analysis = { kind: 'url', value: urlForm[1] as string, date: Number(urlForm[2]), status: 'completed' };
      else if (fileForm) analysis = { kind: 'file', value: fileForm[1] as string, date: Number(fileForm[2]), status: 'completed' };
    }
    const data = analysis && objectData(analysis.kind, analysis.value);
    if (!analysis || !data) return v3Error(404, 'NotFoundError', `Analysis "${id}" not found`);
    const attributes = data.attributes as Record<string, unknown>;
    const queued = analysis.status === 'queued' || attributes.last_analysis_date === undefined;
    const stats = queued ? Object.fromEntries(Object.keys((attributes.last_analysis_stats as object) ?? {}).map((key) => [key, 0])) : attributes.last_analysis_stats;
    const meta =
      analysis.kind === 'url'
        ? { url_info: { id: data.id, ...(typeof attributes.url === 'string' ? { url: attributes.url } : {}) } }
        : { file_info: { sha256: attributes.sha256, sha1: attributes.sha1, md5: attributes.md5, size: attributes.size } };
    return json({
      meta,
      data: {
        type: 'analysis',
        id,
        links: { self: `https://www.virustotal.com/api/v3/analyses/${id}`, item: selfLink(analysis.kind, String(data.id)) },
        attributes: { date: analysis.date, status: queued ? 'queued' : 'completed', stats, results: queued ? {} : (attributes.last_analysis_results ?? {}) },
      },
    });
  }

  function v3YaraRuleset(id: string): Reply {
    const ruleset = yaraRuleset(seed, id);
    return ruleset ? json(ruleset) : v3Error(404, 'NotFoundError', `YaraRuleset "${id}" not found`);
  }

  function notSimulated(method: string, path: string): Reply {
    return v3Error(404, 'NotFoundError', `${method} /api/v3/${path} is not simulated by @x/virustotal-simulator (see its README for the simulated endpoints)`);
  }

  /** Routes one v3 request (after the key and quota checks). */
  function v3Route(method: string, segments: string[], params: URLSearchParams, form: URLSearchParams | undefined): Reply {
    const [collection = '', rawId, third, fourth, ...rest] = segments;
    const kind = V3_COLLECTIONS[collection];
    const path = segments.join('/');
    if (method === 'POST') {
      if (collection === 'urls' && rawId === undefined) return v3SubmitUrl(form ?? new URLSearchParams());
      if (collection === 'files' && rawId && third === 'analyse' && fourth === undefined) return v3AnalyseFile(rawId);
      return notSimulated(method, path);
    }
    if (method !== 'GET' || !rawId || rest.length > 0) return notSimulated(method, path);
    if (collection === 'analyses' && third === undefined) return v3Analysis(rawId);
    if (collection === 'yara_rulesets' && third === undefined) return v3YaraRuleset(rawId);
    if (!kind) return notSimulated(method, path);
    if (third === undefined) return v3Object(kind, rawId, params);
    if (third === 'relationships' && fourth !== undefined) return v3Relationship(kind, rawId, fourth, true, params);
    if (fourth === undefined) return v3Relationship(kind, rawId, third, false, params);
    return notSimulated(method, path);
  }

  // ------------------------------------------------------------------ v2

  const V2_ENDPOINTS = new Set(['file/report', 'url/report', 'domain/report', 'ip-address/report']);

  function splitResources(raw: string, separator: RegExp): string[] {
    return raw
      .split(separator)
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }

  /** A captured report answers with the resource as this request sent it, as VirusTotal echoes it (not the one stored in the capture). */
  function echoResource(report: unknown, resource: string): unknown {
    return typeof report === 'object' && report !== null ? { ...report, resource } : report;
  }

  function v2File(resource: string): unknown {
    // A v2 scan_id (`<sha256>-<timestamp>`) is accepted as a resource too.
    const hash = /^([0-9a-f]{64})-\d+$/i.exec(resource)?.[1] ?? resource;
    if (!hashKind(hash)) return { response_code: 0, resource, verbose_msg: V2_MESSAGES.invalidResource };
    const fixture = fixtures.v2.get(fixtureKey('file', hash));
    if (fixture) return echoResource(fixture, resource);
    return v2FileReport(objectFor('file', hash.toLowerCase()), resource);
  }

  function v2Url(resource: string, scan: boolean): unknown {
    const scanId = /^([0-9a-f]{64})(?:-\d+)?$/i.exec(resource);
    const sha = scanId ? (scanId[1] as string).toLowerCase() : rememberUrl(resource);
    const fixture = fixtures.v2.get(fixtureKey('url', sha));
    if (fixture) return echoResource(fixture, resource);
    return v2UrlReport(objectFor('url', sha), resource, scan);
  }

  function v2(endpoint: string, params: URLSearchParams): Reply {
    switch (endpoint) {
      case 'file/report':
      case 'url/report': {
        const raw = params.get('resource');
        if (!raw) return empty(400);
        const isFile = endpoint === 'file/report';
        const resources = splitResources(raw, isFile ? /,/ : /\n/);
        if (resources.length === 0 || resources.length > options.maxBatch) return empty(400);
        stats.v2Resources(resources.length);
        const scan = params.get('scan') === '1';
        const parts = resources.map((resource) => {
          const cacheKey = `${endpoint}|${scan}|${resource}`;
          let part = v2Parts.get(cacheKey);
          if (part === undefined) v2Parts.set(cacheKey, (part = JSON.stringify(isFile ? v2File(resource) : v2Url(resource, scan))));
          return part;
        });
        // Several resources give an array even when they repeat, as the real API did.
        return { status: 200, body: resources.length > 1 ? `[${parts.join(',')}]` : parts[0], contentType: JSON_TYPE };
      }
      case 'domain/report': {
        const domain = params.get('domain')?.trim().toLowerCase().replace(/\.$/, '');
        if (!domain || !isValidDomain(domain)) return empty(400);
        stats.v2Resources(1);
        return json(fixtures.v2.get(fixtureKey('domain', domain)) ?? v2DomainReport(objectFor('domain', domain)));
      }
      case 'ip-address/report': {
        const ip = params.get('ip')?.trim().toLowerCase();
        if (!ip || !ipVersion(ip)) return empty(400);
        stats.v2Resources(1);
        return json(fixtures.v2.get(fixtureKey('ip_address', ip)) ?? v2IpReport(objectFor('ip_address', ip)));
      }
      default:
        return { status: 404, body: JSON.stringify({ error: { code: 'NotFoundError', message: `/vtapi/v2/${endpoint} is not simulated by @x/virustotal-simulator (simulated: ${[...V2_ENDPOINTS].join(', ')})` } }), contentType: JSON_TYPE };
    }
  }

  // ------------------------------------------------------------------ HTTP

  function send(req: IncomingMessage, res: ServerResponse, reply: Reply, plan: FaultPlan | null): void {
    stats.status(reply.status);
    let body = reply.body ?? '';
    if (plan?.body && body.length > 0 && reply.contentType === JSON_TYPE) {
      const text = body.toString();
      if (plan.body === 'truncate') {
        stats.fault('truncate');
        body = text.slice(0, Math.floor(text.length / 2));
      } else {
        stats.fault('malformed');
        // Still looks like JSON to a glance, never to a parser.
        body = text.replace(':', '=').replace(/}\s*$/, '');
      }
    }
    const buffer = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const headers: Record<string, string | number> = { 'content-length': buffer.length };
    if (reply.status !== 204) headers['content-type'] = reply.contentType ?? JSON_TYPE;
    Object.assign(headers, reply.headers);
    res.writeHead(reply.status, headers);
    if (reply.status === 204 || buffer.length === 0 || req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!plan || plan.slowBodyMs <= 0) {
      res.end(buffer);
      return;
    }
    stats.fault('slowBody');
    const chunks = Math.min(20, buffer.length);
    const size = Math.ceil(buffer.length / chunks);
    const interval = plan.slowBodyMs / chunks;
    let offset = 0;
    const drip = () => {
      if (res.destroyed) return;
      const next = buffer.subarray(offset, offset + size);
      offset += size;
      if (offset >= buffer.length) res.end(next);
      else {
        res.write(next);
        setTimeout(drip, interval);
      }
    };
    drip();
  }

  function faultReply(status: number, api: 'v3' | 'v2'): Reply {
    if (api === 'v2') return empty(status);
    if (status === 503) return v3Error(503, 'TransientError', 'Transient error, please retry');
    if (status === 502) return { status: 502, body: '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>', contentType: HTML_TYPE };
    return v3Error(500, 'InternalError', 'An internal error occurred');
  }

  /**
   * The byEndpoint counter of a v3 request: `v3 <collection>` for an object (as before), then
   * `v3 <collection> <relationship>`, `v3 <collection> relationships`, `v3 analyses`,
   * `v3 yara_rulesets`, `v3 urls POST`, `v3 files analyse`; anything else `v3 other`.
   */
  function v3EndpointName(method: string, segments: string[]): string {
    const [collection = '', id, third, fourth] = segments;
    if (method === 'POST') {
      if (collection === 'urls' && id === undefined) return 'v3 urls POST';
      if (collection === 'files' && third === 'analyse') return 'v3 files analyse';
      return 'v3 other';
    }
    if (!id) return 'v3 other';
    if ((collection === 'analyses' || collection === 'yara_rulesets') && third === undefined) return `v3 ${collection}`;
    const kind = V3_COLLECTIONS[collection];
    if (!kind) return 'v3 other';
    if (third === undefined) return `v3 ${collection}`;
    const name = third === 'relationships' ? fourth : third;
    return name && RELATIONSHIPS[kind][name] ? `v3 ${collection} ${name}` : 'v3 other';
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, api: 'v3' | 'v2', path: string, query: string): Promise<void> {
    let endpoint: string;
    let key: string | undefined;
    let params: URLSearchParams | undefined;
    let form: URLSearchParams | undefined;
    const method = req.method ?? 'GET';
    let segments: string[] = [];
    if (api === 'v3') {
      try {
        segments = path.split('/').map((segment) => decodeURIComponent(segment));
      } catch {
        segments = [path];
      }
      endpoint = v3EndpointName(method, segments);
      params = new URLSearchParams(query);
      const header = req.headers['x-apikey'];
      key = Array.isArray(header) ? header[0] : header;
      if (method === 'POST') form = await readForm(req);
      else req.resume();
    } else {
      // Unknown paths share one counter, as v3's do: a key per path would let any client grow
      // byEndpoint without bound.
      endpoint = V2_ENDPOINTS.has(path) ? `v2 ${path}` : 'v2 other';
      params = new URLSearchParams(query);
      if (method === 'POST') {
        // urlencoded or multipart (VirusTotal read `apikey` from either).
        for (const [name, value] of await readForm(req)) params.append(name, value);
      } else req.resume();
      key = params.get('apikey') ?? undefined;
    }
    stats.request(endpoint, fingerprint(key));

    const plan = faults.plan();
    if (plan.delayMs > 0) {
      stats.fault('latency');
      await sleep(plan.delayMs);
    }
    if (plan.reset) {
      stats.fault('reset');
      stats.status('reset');
      req.socket.destroy();
      return;
    }
    if (plan.errorStatus !== null) {
      stats.fault('error');
      send(req, res, faultReply(plan.errorStatus, api), plan);
      return;
    }

    let reply: Reply;
    if (api === 'v3') {
      // The real v3 checks credentials before routing; so does the simulator.
      if (!key) reply = v3Error(401, 'AuthenticationRequiredError', 'X-Apikey header is missing');
      // The real message is "Wrong API key: <key>"; echoing a key puts it in logs and error
      // reports, so the simulator says "Wrong API key" only.
      else if (!isKnownKey(key)) reply = v3Error(401, 'WrongCredentialsError', 'Wrong API key');
      else if (refuseInjected() || !quotas.tryAcquire(key, Date.now())) reply = quotaRefusal(key);
      else reply = v3Route(method, segments, params, form);
    } else {
      if (!isKnownKey(key)) reply = empty(403);
      else if (refuseInjected() || !quotas.tryAcquire(key as string, Date.now())) reply = empty(204);
      else reply = v2(path, params as URLSearchParams);
    }
    send(req, res, reply, plan);
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const reply = (status: number, value: unknown) => {
      const body = JSON.stringify(value);
      res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === 'stats' && req.method === 'GET') return reply(200, simulator.stats());
    if (path === 'reset' && req.method === 'POST') {
      req.resume();
      simulator.reset();
      return reply(200, { ok: true });
    }
    if (path === 'faults' && req.method === 'GET') return reply(200, faults.current());
    if (path === 'faults' && req.method === 'POST') {
      const text = await readBody(req);
      try {
        return reply(200, simulator.setFaults(text.trim() ? JSON.parse(text) : {}));
      } catch (error) {
        return reply(400, { error: { code: 'InvalidArgumentError', message: (error as Error).message } });
      }
    }
    req.resume();
    return reply(404, { error: { code: 'NotFoundError', message: 'Unknown simulator endpoint: GET /__sim/stats, POST /__sim/reset, GET|POST /__sim/faults' } });
  }

  const server: Server = createServer((req, res) => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q === -1 ? raw : raw.slice(0, q);
    const query = q === -1 ? '' : raw.slice(q + 1);
    let work: Promise<void>;
    if (pathname.startsWith('/api/v3/')) work = handleApi(req, res, 'v3', pathname.slice(8), query);
    else if (pathname.startsWith('/vtapi/v2/')) work = handleApi(req, res, 'v2', pathname.slice(10), query);
    else if (pathname.startsWith('/__sim/')) work = handleAdmin(req, res, pathname.slice(7));
    else {
      req.resume();
      const body = JSON.stringify({ error: { code: 'NotFoundError', message: `Not found: ${pathname} (the APIs are under /api/v3 and /vtapi/v2)` } });
      res.writeHead(404, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    work.catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = JSON.stringify({ error: { code: 'BadRequestError', message: (error as Error).message } });
      res.writeHead(400, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}`;

  const simulator: Simulator = {
    url,
    v3Url: `${url}/api/v3`,
    v2Url: `${url}/vtapi/v2`,
    port: address.port,
    host: address.address,
    stats: () => stats.snapshot(),
    reset: () => {
      stats.reset();
      quotas.reset();
      faults.reseed();
    },
    setFaults: (input) => {
      const parsed = parseFaults(input);
      faults.set(parsed);
      injectedRefusals = parsed.quotaRefusals;
      return parsed;
    },
    faults: () => faults.current(),
    fixtureDuplicates: () => fixtures.duplicates.map((duplicate) => ({ ...duplicate })),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
  return simulator;
}
