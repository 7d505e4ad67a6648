import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { secret } from '../contract/secret.js';
import { Tokens, inject, injectable } from '../contract/tokens.js';
import { UpstreamError } from '../contract/x-enrich-error.js';
import type { HttpClient, UpstreamClient } from '../http/upstream.js';
import type { Observable } from '../contract/observable-type.js';
import { definePlugin, type EnrichContext, type EnrichmentProvider, type ProviderOutcome } from '../contract/provider.js';
import { runProviderConformance, type ConformanceFault, type HungRequest, type CannedResponse } from './index.js';

const API_KEY = 'conformance-secret-key-31337';
const zOptions = z.object({
  baseUrl: z.string().url().default('http://127.0.0.1:1').describe('Where the fake intel API listens.'),
  apiKey: secret(z.string().min(8)).describe('API key, sent as x-apikey.'),
  threshold: z.number().int().min(1).default(3).describe('Detections that make an observable malicious.'),
});

/** A tiny provider over HTTP: GET /v1/<type>/<value> -> { detections }, 404 -> not found. */
@injectable()
class FakeIntelProvider implements EnrichmentProvider {
  private readonly api: UpstreamClient;

  constructor(
    @inject(Tokens.ProviderOptions) private readonly options: z.output<typeof zOptions>,
    @inject(Tokens.HttpClient) http: HttpClient,
  ) {
    this.api = http.upstream({ name: 'Fake intel', baseUrl: options.baseUrl, auth: { header: 'x-apikey', secret: options.apiKey }, notFound: [404] });
  }

  async enrich(observable: Observable, context: EnrichContext): Promise<ProviderOutcome> {
    // The key also travels as a query parameter, so the kit proves it is scrubbed from messages and logs.
    const response = await this.api.get(['v1', observable.type, observable.value], context, { query: { key: this.options.apiKey } });
    if (response.notFound) return { kind: 'not_found' };
    const detections = (response.body as { detections?: unknown }).detections;
    if (typeof detections !== 'number') throw new UpstreamError('bad_response', 'The response has no detections count.');
    const malicious = detections >= this.options.threshold;
    return {
      kind: 'found',
      verdict: malicious ? 'malicious' : 'benign',
      confidence: 'medium',
      reasons: [{ rule: `detections>=${this.options.threshold}`, message: `${detections} detections` }],
      extracted: { detections },
      entities: [],
    };
  }
}

const plugin = definePlugin({
  manifest: {
    id: 'fake-intel',
    packageName: '@x/provider-fake-intel',
    version: '1.2.3',
    displayName: 'Fake intel',
    description: 'A fake HTTP intel API for the conformance kit test.',
    coreRange: '^0.1.0',
    observableTypes: ['domain', 'ipv4'],
    optionsSchema: zOptions,
    defaultCacheTtlMs: { domain: 60_000 },
    defaultRateLimits: [{ requests: 100, perMs: 60_000 }],
    docsUrl: 'https://example.org/fake-intel',
  },
  register: (registrar) => registrar.provider(FakeIntelProvider),
});

async function startFakeIntel() {
  let fault: ConformanceFault | null = null;
  let canned: CannedResponse | null = null;
  const hangs = new EventEmitter();
  const server: Server = createServer((req, res) => {
    if (req.headers['x-apikey'] !== API_KEY) {
      res.statusCode = 401;
      res.end();
      return;
    }
    if (fault === 'http_500') {
      res.statusCode = 500;
      res.end(`{"error":"boom for ${API_KEY}"}`);
    } else if (fault === 'reset') {
      req.socket.destroy();
    } else if (fault === 'garbage_json') {
      res.setHeader('content-type', 'application/json');
      res.end('{"detections": 3,,,');
    } else if (fault === 'hang') {
      // never answers; the kit waits for the connection to close after its abort
      hangs.emit('hung', { closed: new Promise((resolve) => res.on('close', resolve)) });
    } else if (canned) {
      res.writeHead(canned.status ?? 200, { 'content-type': 'application/json', ...canned.headers });
      res.end(JSON.stringify(canned.body ?? null));
    } else if (req.url?.includes('unknown')) {
      res.statusCode = 404;
      res.end();
    } else {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ detections: 4 }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    options: { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
    setFault(next: ConformanceFault | null) {
      fault = next;
    },
    hung: async () => ((await once(hangs, 'hung')) as [HungRequest])[0],
    respond(response: CannedResponse | null) {
      canned = response;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

runProviderConformance({
  plugin,
  validOptions: { apiKey: API_KEY },
  invalidOptions: [
    { options: { apiKey: 'short' }, path: 'apiKey' },
    { options: { apiKey: API_KEY, threshold: 0 }, path: 'threshold' },
  ],
  observables: { found: ['example.org', '8.8.8.8'], notFound: ['unknown.example.org'] },
  startUpstream: startFakeIntel,
  cases: [
    { observable: 'example.org', upstream: { body: { detections: 9 } }, expected: { status: 'ok', verdict: 'malicious', confidence: 'medium' } },
    { name: 'two detections stay under the threshold', observable: '8.8.8.8', upstream: { body: { detections: 2 } }, expected: { status: 'ok', verdict: 'benign' } },
    { observable: 'example.org', upstream: { status: 404 }, expected: { status: 'not_found', verdict: 'unknown', confidence: null } },
    { observable: 'example.org', upstream: { body: { score: 1 } }, expected: { status: 'error', errorCode: 'X_UPSTREAM_BAD_RESPONSE' } },
  ],
});

/** An in-process provider (no upstream): the fault tests are skipped, the rest still apply. */
class LocalListProvider implements EnrichmentProvider {
  async enrich(observable: Observable): Promise<ProviderOutcome> {
    return observable.value === 'example.org'
      ? { kind: 'found', verdict: 'suspicious', confidence: 'low', reasons: [{ rule: 'listed', message: 'on the local list' }], extracted: {}, entities: [] }
      : { kind: 'not_found' };
  }
}

runProviderConformance({
  plugin: definePlugin({
    manifest: { ...plugin.manifest, id: 'local-list', optionsSchema: z.object({}), defaultRateLimits: [] },
    register: (registrar) => registrar.provider(LocalListProvider),
  }),
  validOptions: {},
  observables: { found: ['example.org'], notFound: ['example.com'] },
});
