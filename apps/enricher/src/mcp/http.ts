/**
 * `/mcp` in `x-enrich serve`: the Streamable HTTP transport of the Model Context Protocol.
 *
 * Sessions, not stateless mode: a client's `notifications/cancelled` arrives in a POST of its
 * own, and only the session's server knows the call it names, so only with sessions can a
 * cancelled batch stop its lookups. Sessions live in this process (behind a load balancer, route
 * by the `Mcp-Session-Id` header), are bounded in number and expire when idle. A client that
 * hangs up while a call runs cancels that call too.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Enricher, ErrorCode, ProviderInfo } from '@x/core';
import type { Admission } from '../admission.js';
import type { McpConfig } from '../app-config.js';

export interface McpRouteOptions {
  enricher: Enricher;
  version: string;
  config: McpConfig;
  /** The bearer-token check of the REST API (a fastify onRequest hook). */
  requireToken: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  errorBody: (code: ErrorCode, message: string) => unknown;
  /** The service's admission control, shared with POST /v1/enrich. */
  admission?: Admission;
  /** Milliseconds since the epoch (the engine's clock), for idle expiry. */
  now?: () => number;
  /** What the OpenAPI document says about the route: its security and its error answers (the REST API's). */
  openapi?: { security: Array<Record<string, string[]>>; errorResponse: (description: string) => Record<string, unknown> };
}

/**
 * The MCP specification's guidance against DNS rebinding: a browser page on another site must
 * not reach a local server. Browsers always send `Origin` on such requests; it must name this
 * service's own host (what the client connected to) or a configured origin. Clients that are
 * not browsers send none and are let through (the token still applies).
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (allowed.some((entry) => new URL(entry).origin === parsed.origin)) return true;
  return host !== undefined && parsed.host === host;
}

type Transport = InstanceType<(typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js'))['StreamableHTTPServerTransport']>;

interface Session {
  transport: Transport;
  close(): Promise<void>;
  lastSeen: number;
}

interface JsonRpcRequest {
  id: string | number;
  method: string;
}

function requestsIn(body: unknown): JsonRpcRequest[] {
  const messages = Array.isArray(body) ? body : [body];
  return messages.filter((m): m is JsonRpcRequest => typeof m === 'object' && m !== null && 'id' in m && 'method' in m);
}

export async function mountMcp(app: FastifyInstance, options: McpRouteOptions): Promise<void> {
  const [{ StreamableHTTPServerTransport }, { isInitializeRequest }, { createMcpServer }] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
    import('./server.js'),
  ]);
  const { config, errorBody } = options;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Session>();
  let providers: readonly ProviderInfo[] | undefined;

  const expireIdle = (): void => {
    const limit = now() - config.sessionIdleTimeout;
    for (const [id, session] of sessions) if (session.lastSeen < limit) void session.close().finally(() => sessions.delete(id));
  };
  const sweeper = setInterval(expireIdle, Math.min(60_000, config.sessionIdleTimeout));
  sweeper.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    await Promise.all([...sessions.values()].map((session) => session.close()));
    sessions.clear();
  });

  const checkOrigin = async (request: FastifyRequest, reply: FastifyReply) => {
    if (originAllowed(request.headers.origin, request.headers.host, config.allowedOrigins)) return;
    return reply.code(403).send(errorBody('X_ORIGIN_FORBIDDEN', `Origin ${request.headers.origin} may not call /mcp: add it to mcp.allowedOrigins if it is yours.`));
  };

  /** The session a request names, or a reply that says why there is none. */
  const sessionOf = (request: FastifyRequest, reply: FastifyReply): Session | undefined => {
    const id = request.headers['mcp-session-id'];
    const session = typeof id === 'string' ? sessions.get(id) : undefined;
    if (session) {
      session.lastSeen = now();
      return session;
    }
    // The specification's answer to an unknown or expired session: 404, and the client starts a new one.
    void reply.code(id ? 404 : 400).send(errorBody('X_MCP_SESSION', id ? 'Unknown or expired MCP session: initialize a new one.' : 'Send Mcp-Session-Id (from the initialize response), or an initialize request.'));
    return undefined;
  };

  const openSession = async (): Promise<Transport> => {
    providers ??= await options.enricher.providers();
    const server = createMcpServer({ enricher: options.enricher, version: options.version, maxObservables: config.maxObservables, providers, admission: options.admission });
    const transport: Transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, lastSeen: now(), close: () => server.close().catch(() => undefined) });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport;
  };

  const hooks = { onRequest: [checkOrigin, options.requireToken] };

  const schema = {
    operationId: 'mcp',
    summary: 'Model Context Protocol, Streamable HTTP transport: tools enrich, list_providers, explain; resources x-enrich://… (docs/mcp.md).',
    tags: ['mcp'],
    ...(options.openapi
      ? {
          security: options.openapi.security,
          // The transport writes 200s itself (JSON-RPC as JSON or an event stream); errors before it have the service's shape.
          response: {
            200: {
              description: 'JSON-RPC response(s), as JSON or as a text/event-stream (the MCP Streamable HTTP transport).',
              content: { 'application/json': { schema: { type: 'object', additionalProperties: true } }, 'text/event-stream': { schema: { type: 'string' } } },
            },
            '4XX': options.openapi.errorResponse('Refused: missing token (401), a foreign Origin (403), no or an unknown session (400, 404).'),
            '5XX': options.openapi.errorResponse('Too many open sessions (503, with Retry-After).'),
          },
        }
      : {}),
  };
  app.post('/mcp', { ...hooks, schema }, async (request, reply) => {
    let transport: Transport;
    if (request.headers['mcp-session-id'] === undefined && requestsIn(request.body).some((message) => isInitializeRequest(message))) {
      if (sessions.size >= config.maxSessions) expireIdle();
      if (sessions.size >= config.maxSessions) {
        return reply.code(503).header('retry-after', '60').send(errorBody('X_MCP_SESSION', `Too many open MCP sessions (mcp.maxSessions, ${config.maxSessions}); try again later.`));
      }
      transport = await openSession();
    } else {
      const session = sessionOf(request, reply);
      if (!session) return reply;
      transport = session.transport;
    }
    // A client that hangs up while its call runs cancels it, as a cancellation notification would.
    const pending = requestsIn(request.body);
    reply.raw.on('close', () => {
      if (reply.raw.writableFinished) return;
      for (const call of pending) {
        transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: call.id, reason: 'the client disconnected' } });
      }
    });
    reply.hijack();
    await transport.handleRequest(request.raw, reply.raw, request.body);
  });

  // GET: the session's stream of server messages; DELETE: the client ends the session.
  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = sessionOf(request, reply);
    if (!session) return reply;
    reply.hijack();
    await session.transport.handleRequest(request.raw, reply.raw);
  };
  app.get('/mcp', { ...hooks, schema: { hide: true } }, forward);
  app.delete('/mcp', { ...hooks, schema: { hide: true } }, forward);
}
