import { timingSafeEqual } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { z } from 'zod';
import { zObservableSummary, zResultRecord, type Enricher } from '@x/core';
import type { McpConfig, ServerConfig } from '../app-config.js';
import type { Admission } from '../admission.js';
import type { SharedStoreStats } from '../stores.js';
import type { ServiceMetrics } from './metrics.js';

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

/** The error body of every 4xx/5xx this service sends. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Retry-After of a 503 X_OVERLOADED: lookups from cache or a fast upstream free slots within a second. */
const OVERLOAD_RETRY_AFTER_S = 1;

function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

const zErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });

// OpenAPI 3.0 schemas from core's zod schemas: one source of truth for the record format.
const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'output', unrepresentable: 'any' });

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

/**
 * The HTTP service as a fastify instance (not listening): `x-enrich serve` listens on it and
 * tests use `inject`/`listen({ port: 0 })`.
 */
export async function buildServer(options: ServerAppOptions): Promise<FastifyInstance> {
  const { enricher, server, token, metrics } = options;
  const sharedStores = options.sharedStores ?? (() => []);
  let closing = false;
  const app = Fastify({
    bodyLimit: server.bodyLimit,
    // Sockets a client cannot hold: headers within connectionTimeout, the whole request within
    // bodyTimeout (Node checks both every connectionsCheckingInterval), idle keep-alive sockets
    // closed after keepAliveTimeout, at most maxConnections at once (set on listen, below).
    // No idle timeout on the socket itself: a request may rightly wait minutes for quota.
    // headersTimeout at most bodyTimeout: Node enforces requestTimeout only within headersTimeout's reach.
    http: { headersTimeout: Math.min(server.connectionTimeout, server.bodyTimeout), connectionsCheckingInterval: Math.min(1_000, server.connectionTimeout, server.bodyTimeout) },
    requestTimeout: server.bodyTimeout,
    keepAliveTimeout: server.keepAliveTimeout,
    // While closing, requests on kept-alive connections get this service's own 503 (the hook
    // below), in the documented error shape, rather than fastify's.
    return503OnClosing: false,
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // The body is validated against the route schema; unknown properties are refused, not dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'x-enrich', version: options.version, description: 'Threat-intelligence enrichment: observables in, result records and summaries out.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      ...(token ? { security: [{ bearer: [] }] } : {}),
    },
  });

  app.server.maxConnections = server.maxConnections;

  // Without a token, anyone who can make a browser send a request to this address can use it:
  // DNS rebinding points a web page's own name at 127.0.0.1. Such requests carry that name in
  // Host, so only the names of this service are accepted.
  const allowedHosts = token ? undefined : hostAllowList(server);
  if (allowedHosts) {
    app.addHook('onRequest', async (request, reply) => {
      if (allowedHosts.has(hostName(request.headers.host))) return;
      return reply
        .code(421)
        .header('connection', 'close')
        .send(errorBody('X_HOST_NOT_ALLOWED', `Host ${JSON.stringify(request.headers.host ?? '')} is not a name of this service (server.allowedHosts); without a token only its own names are accepted.`));
    });
  }

  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (closing) return reply.code(503).send(errorBody('X_SHUTTING_DOWN', 'The service is shutting down; send the request again (to another replica).'));
  });
  // A request that finishes while closing must not leave its connection open (kept alive) for
  // its client: the close would wait for it, and the client would send its next request here.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.routeOptions.url ?? 'unknown', request.method, reply.statusCode, reply.elapsedTime / 1000);
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

  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody('X_NOT_FOUND', `No route ${request.method} ${request.url}.`)));

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Health: 200 while lookups can succeed, 503 while a shared store refuses them; provider circuit and store states (no auth).',
        response: { 200: { type: 'object', additionalProperties: true }, 503: { type: 'object', additionalProperties: true } },
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

  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/metrics', { onRequest: requireToken, schema: { summary: 'Prometheus metrics.', security: token ? [{ bearer: [] }] : [] } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get(
    '/v1/providers',
    { onRequest: requireToken, schema: { summary: 'The loaded provider instances: plugin, version, types, lifecycle, circuit state, remaining quota.' } },
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

  app.post<{ Body: { observables: string[]; providers?: string[]; refresh?: boolean } }>(
    '/v1/enrich',
    {
      onRequest: requireToken,
      schema: {
        summary: 'Enrich observables: one record per observable x provider, and one summary per observable, in input order.',
        body: enrichBody,
        response: {
          200: {
            type: 'object',
            properties: { records: { type: 'array', items: jsonSchema(zResultRecord) }, summaries: { type: 'array', items: jsonSchema(zObservableSummary) } },
          },
          '4xx': jsonSchema(zErrorBody),
          '5xx': jsonSchema(zErrorBody),
        },
      },
    },
    async (request, reply) => {
      const { observables, providers, refresh } = request.body;
      if (observables.length > server.maxObservables) {
        return reply
          .code(413)
          .send(errorBody('X_TOO_MANY_OBSERVABLES', `At most ${server.maxObservables} observables per request (server.maxObservables); got ${observables.length}. Split the batch.`));
      }
      const known = (await enricher.providers()).map((info) => info.name);
      if (providers) {
        const unknown = providers.filter((name) => !known.includes(name));
        if (unknown.length) return reply.code(400).send(errorBody('X_UNKNOWN_PROVIDER', `No provider instance named ${unknown.join(', ')} (configured: ${known.join(', ')}).`));
      }
      // Local overload is backpressure, not failed lookups: refuse before starting anything.
      const admitted = options.admission ? options.admission.tryAdmit(providers ?? known, observables.length) : () => undefined;
      if (!admitted) {
        return reply
          .code(503)
          .header('retry-after', String(OVERLOAD_RETRY_AFTER_S))
          .send(errorBody('X_OVERLOADED', `The service is at capacity (every provider instance's resilience.bulkhead is full); send the request again after ${OVERLOAD_RETRY_AFTER_S} s.`));
      }
      // Stop the lookups when the client goes away or the request runs too long.
      const controller = new AbortController();
      // One listener per lookup in flight (core's engine), up to maxObservables x providers.
      setMaxListeners(0, controller.signal);
      const timer = setTimeout(() => controller.abort(), server.requestTimeout);
      const onShutdown = () => controller.abort();
      options.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
      // The response's `close` before it finished means the client hung up.
      const onClose = () => {
        if (!reply.raw.writableFinished) controller.abort();
      };
      reply.raw.on('close', onClose);
      try {
        const result = await enricher.enrich(observables, { signal: controller.signal, refresh: refresh ?? false, providers });
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
        admitted();
        clearTimeout(timer);
        options.shutdownSignal?.removeEventListener('abort', onShutdown);
        reply.raw.off('close', onClose);
      }
    },
  );

  if (options.mcp?.http) {
    const { mountMcp } = await import('../mcp/http.js');
    await mountMcp(app as unknown as FastifyInstance, { enricher, version: options.version, config: options.mcp, requireToken, errorBody, admission: options.admission });
  }

  return app as unknown as FastifyInstance;
}
