import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, type FaultPlan } from './faults.js';
import { fixtureKey, loadFixtures, type FixtureIndex } from './fixtures.js';
import { deriveFileHashes, simulate, v2DomainReport, v2FileReport, v2IpReport, v2UrlReport, v3Json, V2_MESSAGES, type SimulatedObject } from './generate.js';
import { canonicalUrl, decodeUrlId, hashKind, ipVersion, isValidDomain, urlSha256, type ObjectKind } from './observables.js';
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
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
      object = simulate(seed, 'file', hashes.sha256, identity, identity, outcome, hashes);
    } else if (kind === 'url') {
      // `value` is the URL's SHA-256; the URL itself is known when it was seen before.
      const url = urlsBySha.get(value);
      const outcome: Outcome = (url ? reservedOutcome('url', url) : undefined) ?? seededOutcome(seed, 'url', value);
      object = simulate(seed, 'url', value, url, value, outcome);
    } else {
      object = simulate(seed, kind, value, value, value, outcomeFor(seed, kind, value, value));
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

  function v3Object(kind: ObjectKind, rawId: string): Reply {
    let value: string;
    let notFoundMessage: string;
    switch (kind) {
      case 'ip_address':
        if (!ipVersion(rawId)) return v3Error(400, 'InvalidArgumentError', `IP address "${rawId}" is not a valid IP address`);
        value = rawId.toLowerCase();
        notFoundMessage = `IP address "${rawId}" not found`;
        break;
      case 'domain':
        if (!isValidDomain(rawId)) return v3Error(400, 'InvalidArgumentError', `Domain "${rawId}" is not a valid domain pattern`);
        value = rawId.toLowerCase().replace(/\.$/, '');
        notFoundMessage = `Domain "${rawId}" not found`;
        break;
      case 'file':
        if (!hashKind(rawId)) return v3Error(400, 'InvalidArgumentError', `File "${rawId}" is not a valid md5, sha1 or sha256 hash`);
        value = rawId.toLowerCase();
        notFoundMessage = `File "${rawId}" not found`;
        break;
      case 'url': {
        const decoded = decodeUrlId(rawId);
        notFoundMessage = `URL "${rawId}" not found`;
        // Unlike the other kinds, the real API has no 400 for URL ids: an id that is neither a
        // SHA-256 nor base64 of a URL is just an id it does not know (capture
        // docs_example_error_404_NotFoundError_url.json: `URL "thisurlidmakesnosenseatall" not found`).
        if (!decoded) return v3Error(404, 'NotFoundError', notFoundMessage);
        value = decoded.url ? rememberUrl(decoded.url) : decoded.sha256;
        break;
      }
    }
    const fixture = fixtures.v3.get(fixtureKey(kind, value));
    if (fixture) return json(fixture);
    const cacheKey = `${kind}|${value}`;
    const body = v3Bodies.get(cacheKey);
    if (body !== undefined) return body === null ? v3Error(404, 'NotFoundError', notFoundMessage) : { status: 200, body, contentType: JSON_TYPE };
    const object = objectFor(kind, value);
    if (object.outcome.status === 'not_found') {
      v3Bodies.set(cacheKey, null);
      return v3Error(404, 'NotFoundError', notFoundMessage);
    }
    // A queued object is served as found with an empty analysis (no last_analysis_date, empty
    // results, zero stats), which is what v3 shows for a submitted, not yet analysed item.
    const serialised = Buffer.from(v3Json(object), 'utf8');
    v3Bodies.set(cacheKey, serialised);
    return { status: 200, body: serialised, contentType: JSON_TYPE };
  }

  // ------------------------------------------------------------------ v2

  const V2_ENDPOINTS = new Set(['file/report', 'url/report', 'domain/report', 'ip-address/report']);

  function splitResources(raw: string, separator: RegExp): string[] {
    return raw
      .split(separator)
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }

  function v2File(resource: string): unknown {
    // A v2 scan_id (`<sha256>-<timestamp>`) is accepted as a resource too.
    const hash = /^([0-9a-f]{64})-\d+$/i.exec(resource)?.[1] ?? resource;
    if (!hashKind(hash)) return { response_code: 0, resource, verbose_msg: V2_MESSAGES.invalidResource };
    const fixture = fixtures.v2.get(fixtureKey('file', hash));
    if (fixture) return fixture;
    return v2FileReport(objectFor('file', hash.toLowerCase()), resource);
  }

  function v2Url(resource: string, scan: boolean): unknown {
    const scanId = /^([0-9a-f]{64})(?:-\d+)?$/i.exec(resource);
    const sha = scanId ? (scanId[1] as string).toLowerCase() : rememberUrl(resource);
    const fixture = fixtures.v2.get(fixtureKey('url', sha));
    if (fixture) return fixture;
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
        return empty(404);
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

  async function handleApi(req: IncomingMessage, res: ServerResponse, api: 'v3' | 'v2', path: string, query: string): Promise<void> {
    let endpoint: string;
    let key: string | undefined;
    let params: URLSearchParams | undefined;
    let v3Kind: ObjectKind | undefined;
    let v3Id = '';
    if (api === 'v3') {
      const [collection, id, ...rest] = path.split('/');
      v3Kind = V3_COLLECTIONS[collection ?? ''];
      endpoint = v3Kind ? `v3 ${collection}` : 'v3 other';
      if (!v3Kind || !id || rest.length > 0 || req.method !== 'GET') v3Kind = undefined;
      try {
        v3Id = decodeURIComponent(id ?? '');
      } catch {
        v3Kind = undefined;
      }
      const header = req.headers['x-apikey'];
      key = Array.isArray(header) ? header[0] : header;
      req.resume();
    } else {
      // Unknown paths share one counter, as v3's do: a key per path would let any client grow
      // byEndpoint without bound.
      endpoint = V2_ENDPOINTS.has(path) ? `v2 ${path}` : 'v2 other';
      params = new URLSearchParams(query);
      if (req.method === 'POST') {
        const body = await readBody(req);
        for (const [name, value] of new URLSearchParams(body)) params.append(name, value);
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
      else if (!v3Kind) reply = v3Error(404, 'NotFoundError', `Resource "${path}" not found`);
      else reply = v3Object(v3Kind, v3Id);
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
  return simulator;
}
