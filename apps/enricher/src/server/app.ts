import { timingSafeEqual } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { ServerResponse, type IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import * as z from 'zod';
import { OBSERVABLE_TYPES, zLifecycle, zObservableSummary, zResultRecord, type Enricher, type ErrorCode } from '@x/core';
import type { McpConfig, ServerConfig } from '../app-config.js';
import type { Admission } from '../admission.js';
import type { SharedStoreStats } from '../stores.js';
import { requestLine } from '../logger.js';
import type { ServiceMetrics } from './metrics.js';
import { createAnswerSerializer } from './serialize.js';

export interface ServerAppOptions {
  enricher: Enricher;
  server: ServerConfig;
  /** Bearer token required on /v1 and /metrics; undefined: no auth. */
  token?: string;
  metrics: ServiceMetrics;
  version: string;
  /** A pino logger for request logs (omit for none). */
  logger?: FastifyBaseLogger;
  /** The shared (Redis) stores' health, for /healthz (the same stats /metrics exports). */
  sharedStores?: () => readonly SharedStoreStats[];
  /**
   * Aborted when `server.shutdownGrace` ran out: the requests still in flight stop their lookups
   * and answer 503 X_SHUTTING_DOWN instead of losing their connection when the process exits.
   */
  shutdownSignal?: AbortSignal;
  /** The MCP surface; `/mcp` is mounted when `http` is on. */
  mcp?: McpConfig;
  /** Admission control (`createAdmission`): requests that would overfill a bulkhead get 503 + Retry-After. Omit for none. */
  admission?: Admission;
}

/**
 * AbortControllers for requests, reused while they were never aborted. Node makes a controller's
 * signal on first use, and that costs about 3 µs of CPU, as much as a whole cached lookup: a
 * service answering from its cache would spend a fifth of a request on signals nobody aborts.
 * A controller comes back only unaborted and with no listener left on its signal (the engine
 * removes its one when the call ends), so a request cannot tell a reused one from a new one.
 */
export function createControllerPool(max = 1024): { take(): AbortController; give(controller: AbortController): void } {
  const free: AbortController[] = [];
  return {
    take: () => free.pop() ?? new AbortController(),
    give(controller) {
      if (free.length < max && !controller.signal.aborted && getEventListeners(controller.signal, 'abort').length === 0) free.push(controller);
    },
  };
}

/**
 * The responses of a server that adds `connection: close` to every response head written while
 * `closing()`: a request that finishes while the service closes must not leave its connection
 * open (kept alive) for its client, or the close would wait for it and the client would send its
 * next request here. In `writeHead` (which node also calls for a head written implicitly), so the
 * responses of a running service pay one check and no hook: an `onSend` hook on every response
 * was a measurable share of a cached request (docs/performance.md). It also covers responses
 * written past fastify's reply (the MCP transport's streams).
 */
export function closingAwareResponse(closing: () => boolean): typeof ServerResponse {
  return class ClosingAwareResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- writeHead's overloads, passed through as they are
    override writeHead(...args: any[]): this {
      if (closing() && !this.headersSent) this.setHeader('connection', 'close');
      return (super.writeHead as (...args: unknown[]) => this)(...args);
    }
  } as typeof ServerResponse;
}

type EnrichAnswer = Awaited<ReturnType<Enricher['enrich']>>;
const isPromise = (value: EnrichAnswer | Promise<EnrichAnswer>): value is Promise<EnrichAnswer> => typeof (value as { then?: unknown }).then === 'function';

/** The error body of every 4xx/5xx this service sends. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Retry-After of a 503 X_OVERLOADED: lookups from cache or a fast upstream free slots within a second. */
const OVERLOAD_RETRY_AFTER_S = 1;

// Typed by core's one error table, so a new code cannot bypass docs/reference/errors.md.
function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

const zErrorBody = z
  .object({
    error: z.object({
      code: z.string().describe('Stable error code, e.g. X_UNAUTHORIZED, X_REQUEST_INVALID (docs/reference/errors.md).'),
      message: z.string().describe('What happened and what to do.'),
      details: z.unknown().optional().describe('Per-field problems of an invalid request.'),
    }),
  })
  .describe('The body of every 4xx and 5xx answer.');

const zProviderInfo = z.object({
  name: z.string().describe('Instance name from the config.'),
  plugin: z.string().describe('Plugin id.'),
  packageName: z.string(),
  version: z.string(),
  displayName: z.string(),
  types: z.array(z.enum(OBSERVABLE_TYPES)).describe('Observable types it looks up.'),
  lifecycle: zLifecycle,
  circuitState: z.enum(['closed', 'open', 'half-open', 'isolated', 'disabled']).describe('Its circuit breaker: open means lookups fail fast.'),
  rateLimit: z.array(z.object({ requests: z.number(), perMs: z.number(), remaining: z.number() })).describe('Budget left per configured window (empty when unlimited).'),
  batch: z.object({ maxSize: z.number(), maxWaitMs: z.number() }).nullable(),
});

const zHealth = z.object({
  status: z.enum(['ok', 'degraded']),
  message: z.string().optional().describe('Why it is degraded.'),
  providers: z.record(z.string(), z.object({ circuit: z.string() })).describe('Circuit state per provider instance.'),
  stores: z.record(z.string(), z.object({ status: z.string() })).optional().describe('Shared (Redis) stores and their state.'),
});

/**
 * OpenAPI 3.0 schemas from core's zod schemas: one source of truth for the record format.
 * OpenAPI 3.0.3 says `nullable: true` does not add null to an `enum`: a nullable enum must list
 * null itself, or a validator refuses every null (`confidence: null`), so it is added here.
 */
export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const object = node as Record<string, unknown>;
    if (object.nullable === true && Array.isArray(object.enum) && !object.enum.includes(null)) object.enum = [...object.enum, null];
    for (const value of Object.values(object)) visit(value);
  };
  visit(json);
  return json;
}

/** Named schemas under components.schemas, referenced by the routes. */
const SHARED_SCHEMAS = {
  ResultRecord: zResultRecord,
  ObservableSummary: zObservableSummary,
  ProviderInfo: zProviderInfo,
  Health: zHealth,
  Error: zErrorBody,
} as const;
const ref = (name: keyof typeof SHARED_SCHEMAS) => ({ $ref: `${name}#` });
const errorResponse = (description: string) => ({ description, ...ref('Error') });

function tokenMatches(expected: string, header: string | undefined): boolean {
  const match = /^Bearer (.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const wanted = Buffer.from(expected);
  // Constant-time compare, so the token cannot be guessed byte by byte from response times.
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** The Host header's name, lower case, without the port (`[::1]:8080` -> `[::1]`). */
function hostName(header: string | undefined): string {
  const value = (header ?? '').trim().toLowerCase();
  if (value.startsWith('[')) return value.slice(0, value.indexOf(']') + 1);
  const colon = value.lastIndexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/** The names accepted in Host when the service has no token. */
export function hostAllowList(server: Pick<ServerConfig, 'allowedHosts' | 'host'>): Set<string> {
  if (server.allowedHosts) return new Set(server.allowedHosts.map((name) => hostName(name.includes(':') && !name.startsWith('[') && name.split(':').length > 2 ? `[${name}]` : name)));
  const names = new Set(['localhost', '127.0.0.1', '[::1]']);
  const own = server.host.toLowerCase();
  if (!WILDCARD_HOSTS.has(own)) names.add(own.includes(':') ? `[${own}]` : own);
  return names;
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** The logger for fastify itself: the service's, at warn or above. */
function quieter(logger: FastifyBaseLogger): FastifyBaseLogger {
  return (LEVELS[logger.level] ?? 30) >= 40 ? logger : logger.child({}, { level: 'warn' });
}

/**
 * The HTTP service as a fastify instance (not listening): `x-enrich serve` listens on it and
 * tests use `inject`/`listen({ port: 0 })`.
 */
export async function buildServer(options: ServerAppOptions): Promise<FastifyInstance> {
  const { enricher, server, token, metrics } = options;
  const sharedStores = options.sharedStores ?? (() => []);
  let closing = false;
  // The request log only when its level is on (a disabled pino call still builds its arguments).
  const logRequest = options.logger && (LEVELS[options.logger.level] ?? 30) <= 30 ? requestLine(options.logger) : undefined;
  const app = Fastify({
    bodyLimit: server.bodyLimit,
    // Sockets a client cannot hold: headers within connectionTimeout, the whole request within
    // bodyTimeout (Node checks both every connectionsCheckingInterval), idle keep-alive sockets
    // closed after keepAliveTimeout, at most maxConnections at once (set on listen, below).
    // No idle timeout on the socket itself: a request may rightly wait minutes for quota.
    // headersTimeout at most bodyTimeout: Node enforces requestTimeout only within headersTimeout's reach.
    http: {
      headersTimeout: Math.min(server.connectionTimeout, server.bodyTimeout),
      connectionsCheckingInterval: Math.min(1_000, server.connectionTimeout, server.bodyTimeout),
      // `connection: close` on every response whose head is written while closing (below).
      ServerResponse: closingAwareResponse(() => closing),
    },
    requestTimeout: server.bodyTimeout,
    keepAliveTimeout: server.keepAliveTimeout,
    // While closing, requests on kept-alive connections get this service's own 503 (the hook
    // below), in the documented error shape, rather than fastify's.
    return503OnClosing: false,
    // fastify's own info lines ("Server listening at", "incoming request", "request completed"
    // with a 15-digit float) are not for people: it logs warnings and errors only, and the hook
    // below logs one line per request.
    ...(options.logger ? { loggerInstance: quieter(options.logger) } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    // request.log is the service's logger itself, not a pino child made for every request (with
    // a request id nobody reads: the request line above has none): a child per request was a
    // measurable share of a cached lookup's time.
    childLoggerFactory: (logger) => logger,
    // The body is validated against the route schema; unknown properties are refused, not dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  });

  for (const [name, schema] of Object.entries(SHARED_SCHEMAS)) app.addSchema({ $id: name, title: name, ...openApiSchema(schema) });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'x-enrich',
        version: options.version,
        description: 'Threat-intelligence enrichment: observables in, result records and summaries out. The page for people is /docs; this document is /docs/json.',
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      // Relative: the document is right wherever the service is reached (a proxy, another port).
      servers: [{ url: '/', description: 'This service' }],
      // The scheme exists only when a token does: without one, nothing asks for it.
      ...(token ? { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'server.token (or X_ENRICH_TOKEN).' } } } } : {}),
    },
    // components.schemas get their names (ResultRecord, Error, ...) rather than def-0, def-1.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  // Swagger UI, served from the package's own files: the page works without internet.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: false }, staticCSP: true });

  app.server.maxConnections = server.maxConnections;

  // Without a token, anyone who can make a browser send a request to this address can use it:
  // DNS rebinding points a web page's own name at 127.0.0.1. Such requests carry that name in
  // Host, so only the names of this service are accepted.
  const allowedHosts = token ? undefined : hostAllowList(server);
  app.addHook('preClose', async () => {
    closing = true;
  });
  // The per-request hooks are callback-style and few: each async hook costs fastify a promise and
  // a hook runner per request, which on a cached lookup is a measurable share of the time.
  // Clients send the same Host on every request: the last one accepted is not parsed again.
  let acceptedHost: string | undefined;
  app.addHook('onRequest', (request, reply, done) => {
    const host = request.headers.host;
    if (allowedHosts && (host === undefined || host !== acceptedHost) && !allowedHosts.has(hostName(host))) {
      reply
        .code(421)
        .header('connection', 'close')
        .send(errorBody('X_HOST_NOT_ALLOWED', `Host ${JSON.stringify(request.headers.host ?? '')} is not a name of this service (server.allowedHosts); without a token only its own names are accepted.`));
      return;
    }
    if (allowedHosts && host !== undefined) acceptedHost = host;
    if (closing) {
      reply.code(503).send(errorBody('X_SHUTTING_DOWN', 'The service is shutting down; send the request again (to another replica).'));
      return;
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.routeOptions.url ?? 'unknown', request.method, reply.statusCode, reply.elapsedTime / 1000);
    // One line per request: `POST /v1/enrich 200 12 ms` on a terminal; the same fields in JSON off one.
    // The path without its query string; the token is in a header and never logged.
    if (logRequest) {
      const query = request.url.indexOf('?');
      logRequest(request.method, query === -1 ? request.url : request.url.slice(0, query), reply.statusCode, Math.round(reply.elapsedTime));
    }
    done();
  });

  const requireToken = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!token) return;
    if (tokenMatches(token, request.headers.authorization)) return;
    // `connection: close`: the client may still be sending (dripping) a body nobody will read.
    return reply
      .code(401)
      .header('connection', 'close')
      .header('www-authenticate', 'Bearer realm="x-enrich"')
      .send(errorBody('X_UNAUTHORIZED', 'Missing or wrong bearer token: send Authorization: Bearer <token>.'));
  };

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return reply.code(400).send(errorBody('X_REQUEST_INVALID', `Invalid request: ${error.message}.`, error.validation.map((issue) => ({ path: issue.instancePath, message: issue.message }))));
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const type = request.headers['content-type'];
      return reply.code(415).send(errorBody('X_REQUEST_INVALID', `Unsupported Media Type: send the body as JSON with Content-Type: application/json (got ${type ? type : 'no Content-Type'}).`));
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send(errorBody('X_REQUEST_TOO_LARGE', `The request body exceeds ${server.bodyLimit} bytes (server.bodyLimit): send fewer observables per request.`));
    }
    if (error.statusCode && error.statusCode < 500) {
      return reply.code(error.statusCode).send(errorBody('X_REQUEST_INVALID', error.message));
    }
    reply.log.error({ err: error }, 'request failed');
    return reply.code(500).send(errorBody('X_INTERNAL', 'The service failed to handle the request; see its log.'));
  });

  app.setNotFoundHandler((request, reply) => {
    const docs = request.url.startsWith('/docs') ? ' The API page is /docs (the OpenAPI document: /docs/json).' : ' See /docs for the routes.';
    return reply.code(404).send(errorBody('X_NOT_FOUND', `No route ${request.method} ${request.url}.${docs}`));
  });

  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'health',
        tags: ['service'],
        summary: 'Health: 200 while lookups can succeed, 503 while a shared store refuses them; provider circuit and store states (no auth).',
        // No token, even when the service has one: load balancers probe it.
        security: [],
        response: {
          200: { description: 'Lookups can succeed (a store may be on its in-memory fallback).', ...ref('Health') },
          503: { description: 'A shared store is down and refuses every lookup (onUnavailable: refuse).', ...ref('Health') },
        },
      },
    },
    async (_request, reply) => {
      const stores = sharedStores();
      // A store with `onUnavailable: refuse` that is down fails every lookup (X_STORE_UNAVAILABLE):
      // a load balancer should send the traffic elsewhere. A store falling back to memory still
      // serves (quotas per process meanwhile): reported, but healthy.
      const down = stores.filter(({ stats }) => stats.status === 'unavailable').map(({ store }) => store);
      return reply.code(down.length ? 503 : 200).send({
        status: down.length ? 'degraded' : 'ok',
        ...(down.length ? { message: `Shared store down, refusing every lookup (onUnavailable: refuse): ${down.join(', ')}.` } : {}),
        providers: Object.fromEntries((await enricher.providers()).map((info) => [info.name, { circuit: info.circuitState }])),
        ...(stores.length ? { stores: Object.fromEntries(stores.map(({ store, stats }) => [store, { status: stats.status }])) } : {}),
      });
    },
  );

  // Declared on every operation, so the document says plainly which need the token (none without one).
  const security = token ? [{ bearer: [] }] : [];
  const unauthorized = { 401: errorResponse('Missing or wrong bearer token (only when the service has one: server.token or X_ENRICH_TOKEN).') };

  app.get(
    '/metrics',
    {
      onRequest: requireToken,
      schema: {
        operationId: 'metrics',
        tags: ['service'],
        summary: 'Prometheus metrics (text exposition format).',
        security,
        response: { 200: { description: 'Metrics in the Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } }, ...unauthorized },
      },
    },
    async (_request, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );

  app.get(
    '/v1/providers',
    {
      onRequest: requireToken,
      schema: {
        operationId: 'listProviders',
        tags: ['enrichment'],
        summary: 'The loaded provider instances: plugin, version, types, lifecycle, circuit state, remaining quota.',
        security,
        response: {
          200: { description: 'Every configured provider instance.', type: 'object', required: ['providers'], properties: { providers: { type: 'array', items: ref('ProviderInfo') } } },
          ...unauthorized,
        },
      },
    },
    async () => ({ providers: await enricher.providers() }),
  );

  const enrichBody = {
    type: 'object',
    required: ['observables'],
    additionalProperties: false,
    properties: {
      observables: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1, maxLength: 8192 },
        description: `Raw observables (auto-detected, defanged accepted) or type:value. At most ${server.maxObservables} per request (413 beyond).`,
      },
      providers: { type: 'array', items: { type: 'string' }, description: 'Only these instances (default: all).' },
      refresh: { type: 'boolean', description: 'Bypass the cache (results are cached again).' },
    },
  };

  // The instance names are fixed once the enricher is open: read them once, not per request.
  const known = (await enricher.providers()).map((info) => info.name);
  const auth = token ? { onRequest: requireToken } : {};
  // The enrich requests in flight: one shutdown listener for all of them rather than one each.
  const inFlight = new Set<AbortController>();
  const controllers = createControllerPool();
  const serializeAnswer = createAnswerSerializer();
  options.shutdownSignal?.addEventListener('abort', () => {
    for (const controller of inFlight) controller.abort();
  }, { once: true });

  app.post<{ Body: { observables: string[]; providers?: string[]; refresh?: boolean } }>(
    '/v1/enrich',
    {
      ...auth,
      // JSON.stringify's output (createAnswerSerializer), not the fast-json-stringify serializer
      // compiled from the response schema: for records (nullable unions, open objects) that one
      // checks every union member per value and took about twice JSON.stringify's time
      // (docs/performance.md). The schema still documents the answer, and the OpenAPI tests hold
      // the answers to it.
      serializerCompiler: () => serializeAnswer,
      schema: {
        operationId: 'enrich',
        tags: ['enrichment'],
        summary: 'Enrich observables: one record per observable x provider, and one summary per observable, in input order.',
        security,
        body: enrichBody,
        response: {
          200: {
            description: 'One record per observable x provider (input-major) and one summary per observable. Lookup failures are records with status error, not HTTP errors.',
            type: 'object',
            required: ['records', 'summaries'],
            properties: { records: { type: 'array', items: ref('ResultRecord') }, summaries: { type: 'array', items: ref('ObservableSummary') } },
          },
          '4xx': errorResponse('The request was refused: invalid body (400), unknown provider (400), missing token (401), too many observables or too large (413), wrong media type (415).'),
          '5xx': errorResponse('The service failed (500), is shutting down (503) or the request ran past server.requestTimeout (504).'),
        },
      },
    },
    // Not an async function: a call answered from the cache is answered by returning its result
    // (fastify sends it at once), with no promise of the handler's own for fastify to wait on. The
    // refusals send their answer and return nothing (a sent reply returned would be sent again).
    (request, reply) => {
      const { observables, providers, refresh } = request.body;
      if (observables.length > server.maxObservables) {
        reply
          .code(413)
          .send(errorBody('X_TOO_MANY_OBSERVABLES', `At most ${server.maxObservables} observables per request (server.maxObservables); got ${observables.length}. Split the batch.`));
        return undefined;
      }
      if (providers) {
        const unknown = providers.filter((name) => !known.includes(name));
        if (unknown.length) {
          reply.code(400).send(errorBody('X_UNKNOWN_PROVIDER', `No provider instance named ${unknown.join(', ')} (configured: ${known.join(', ')}).`));
          return undefined;
        }
      }
      // Local overload is backpressure, not failed lookups: refuse before starting anything.
      const admitted = options.admission ? options.admission.tryAdmit(providers ?? known, observables.length) : () => undefined;
      if (!admitted) {
        reply
          .code(503)
          .header('retry-after', String(OVERLOAD_RETRY_AFTER_S))
          .send(errorBody('X_OVERLOADED', `The service is at capacity (every provider instance's resilience.bulkhead is full); send the request again after ${OVERLOAD_RETRY_AFTER_S} s.`));
        return undefined;
      }
      // The engine answers a call of cached observables at once (`enrichNow` gives the result
      // itself), and no timer, socket event or shutdown can run before the answer is sent. Only
      // a call that really waits gets what stops it (a timer, a close listener, a place among the
      // requests in flight): arming them for every request was a measurable share of a cached
      // one. The signal is passed either way (the engine links its own to it once a lookup has
      // to wait).
      const controller = controllers.take();
      let answer: EnrichAnswer | Promise<EnrichAnswer>;
      try {
        const call = { signal: controller.signal, refresh: refresh ?? false, providers };
        answer = enricher.enrichNow ? enricher.enrichNow(observables, call) : enricher.enrich(observables, call);
      } catch (error) {
        admitted();
        controllers.give(controller);
        throw error;
      }
      if (!isPromise(answer)) {
        admitted();
        controllers.give(controller);
        return answer;
      }
      return pending(answer, controller, reply, admitted);
    },
  );

  /**
   * A call that has to wait: stop its lookups when the client goes away, the request runs too
   * long or the service stops. The engine links its own signal to the controller's with a single
   * listener, so this one needs no raised listener limit.
   */
  async function pending(call: Promise<EnrichAnswer>, controller: AbortController, reply: FastifyReply, admitted: () => void): Promise<unknown> {
    let finished = false;
    const timer = setTimeout(() => controller.abort(), server.requestTimeout);
    inFlight.add(controller);
    // A request armed after the shutdown's abort still stops with the others.
    if (options.shutdownSignal?.aborted) controller.abort();
    // The response's `close` before it finished means the client hung up. The listener goes with
    // the response (removing it costs more than leaving it); `finished` keeps it from touching
    // the controller once this request gave it back.
    reply.raw.on('close', () => {
      if (!finished && !reply.raw.writableFinished) controller.abort();
    });
    try {
      const result = await call;
      if (controller.signal.aborted && !reply.raw.destroyed) {
        if (options.shutdownSignal?.aborted) {
          return reply
            .code(503)
            .send(errorBody('X_SHUTTING_DOWN', `The service shut down before this request finished (server.shutdownGrace, ${server.shutdownGrace} ms, ran out); send it again.`));
        }
        return reply.code(504).send(errorBody('X_TIMEOUT', `The request took longer than server.requestTimeout (${server.requestTimeout} ms); send fewer observables.`));
      }
      return result;
    } finally {
      finished = true;
      admitted();
      clearTimeout(timer);
      inFlight.delete(controller);
      controllers.give(controller);
    }
  }

  if (options.mcp?.http) {
    const { mountMcp } = await import('../mcp/http.js');
    await mountMcp(app as unknown as FastifyInstance, {
      enricher,
      version: options.version,
      config: options.mcp,
      requireToken,
      errorBody,
      admission: options.admission,
      openapi: { security, errorResponse },
    });
  }

  return app as unknown as FastifyInstance;
}
