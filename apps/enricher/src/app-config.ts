import { access } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as z from 'zod';
import { loadConfigFile, secret, zDuration, zEnricherConfig, XEnrichError } from '@x/core';

/** The Model Context Protocol surface: `x-enrich mcp` (stdio) and `/mcp` in `serve`. */
export const zMcpConfig = z
  .strictObject({
    http: z.boolean().default(true).describe('Mount the Streamable HTTP transport at /mcp in `serve` (behind the same bearer token as /v1).'),
    maxSessions: z.number().int().positive().default(100).describe('Most MCP sessions open at once on /mcp (503 with Retry-After beyond, after expiring idle ones).'),
    sessionIdleTimeout: zDuration.default(1_800_000).describe('An MCP session unused this long is closed (its client starts a new one).'),
    maxObservables: z.number().int().positive().max(10_000).default(100).describe('Most observables one `enrich` tool call may carry (a clear tool error beyond).'),
    allowedOrigins: z
      .array(z.string().url())
      .default([])
      .describe('Browser origins allowed to call /mcp besides the service\'s own host (requests with any other Origin get 403, against DNS rebinding). Requests without an Origin header (non-browser clients) are allowed.'),
  })
  .describe('The MCP server for AI agents (docs/mcp.md).');
export type McpConfig = z.output<typeof zMcpConfig>;

/**
 * The `server` section, read only by `x-enrich serve`. Core's schema stays untouched: the app
 * extends it, so one file configures both and `config schema` describes both.
 */
export const zServerConfig = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Address to listen on. 127.0.0.1 keeps the service local; 0.0.0.0 exposes it.'),
    port: z.number().int().min(0).max(65_535).default(8080).describe('Port to listen on (0: any free port).'),
    token: secret(z.string().min(16, 'use at least 16 characters'))
      .optional()
      .describe('Bearer token every /v1 request must carry (Authorization: Bearer ...). Else read from X_ENRICH_TOKEN, which must be as long. Unset: no auth.'),
    bodyLimit: z.number().int().positive().default(1_048_576).describe('Largest request body in bytes (413 beyond).'),
    maxObservables: z.number().int().positive().default(1_000).describe('Most observables in one POST /v1/enrich (422 beyond).'),
    requestTimeout: zDuration.default(300_000).describe('Longest one request may take before it is aborted (504).'),
    shutdownGrace: zDuration.default(10_000).describe('On SIGTERM, how long in-flight requests may finish; those still running then get 503 X_SHUTTING_DOWN.'),
    connectionTimeout: zDuration
      .default(10_000)
      .describe('A connection must send complete request headers within this (also an idle one); else it is closed.'),
    bodyTimeout: zDuration.default(30_000).describe('The whole request, body included, must arrive within this (408 and closed beyond): a client dripping bytes cannot hold a socket.'),
    keepAliveTimeout: zDuration.default(5_000).describe('How long an idle kept-alive connection stays open between requests.'),
    maxConnections: z.number().int().positive().default(1_024).describe('Open connections at most; further ones are closed at once.'),
    allowedHosts: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Host header names accepted when the service has no token (a DNS-rebinding guard): default localhost, 127.0.0.1, [::1] and server.host. With a token any Host is accepted.',
      ),
  })
  .describe('The HTTP service (`x-enrich serve`).');
export type ServerConfig = z.output<typeof zServerConfig>;

/**
 * The app's config: core's, with `cache` and `rateLimitStore` left undefined when the file does not set it (the CLI
 * then defaults to a persistent file cache and `serve` to memory) and a `server` section.
 */
export const zAppConfig = zEnricherConfig.extend({
  cache: zEnricherConfig.shape.cache
    .unwrap()
    .optional()
    .describe('Where outcomes are cached, or false. Default: a file store in the user cache directory for the CLI, memory for `serve`.'),
  rateLimitStore: zEnricherConfig.shape.rateLimitStore
    .unwrap()
    .optional()
    .describe('Where rate-limit budgets are kept. Default: a file store beside the file cache for the CLI (runs on one machine share the budget), memory for `serve`.'),
  // Built once per config parse: zod's interpreted path (`jitless`) skips compiling a parser of
  // its own for each, as core does for its one-shot parses (packages/core/src/config/parse-once.ts).
  server: zServerConfig.default(() => zServerConfig.parse({}, { jitless: true })),
  mcp: zMcpConfig.default(() => zMcpConfig.parse({}, { jitless: true })),
});
export type AppConfig = z.output<typeof zAppConfig>;

/**
 * The bearer token `serve` requires: `server.token`, else X_ENRICH_TOKEN. The variable gets the
 * very rule the config's token gets (at least 16 characters), so a weak token cannot come in
 * through the environment; the error names the variable, never its value.
 */
export function serverToken(server: Pick<ServerConfig, 'token'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (server.token) return server.token;
  const value = env.X_ENRICH_TOKEN;
  // Set but empty (`X_ENRICH_TOKEN= x-enrich serve`) means unset, as before: no auth.
  if (!value) return undefined;
  const checked = zServerConfig.shape.token.safeParse(value);
  if (!checked.success) {
    const problems = checked.error.issues.map((issue) => issue.message).join('; ');
    throw new XEnrichError(
      'X_CONFIG_INVALID',
      `X_ENRICH_TOKEN: ${problems}, as for server.token (for example X_ENRICH_TOKEN=$(openssl rand -hex 24)); the service did not start.`,
    );
  }
  return checked.data;
}

export const DEFAULT_CONFIG_FILE = 'x-enrich.yaml';

/** `--config FILE`, else `x-enrich.yaml` in the working directory; a clear error when neither exists. */
export async function resolveConfigPath(explicit: string | undefined, cwd = process.cwd()): Promise<string> {
  const path = resolve(cwd, explicit ?? DEFAULT_CONFIG_FILE);
  try {
    await access(path);
  } catch {
    throw new XEnrichError(
      'X_CONFIG_NOT_FOUND',
      explicit
        ? `Config file ${path} does not exist or cannot be read.`
        : `No config file: pass --config FILE or create ${DEFAULT_CONFIG_FILE} here. Examples: examples/x-enrich.simulator.yaml, examples/x-enrich.virustotal.yaml; try \`x-enrich demo\` for a run without one.`,
    );
  }
  return path;
}

export interface LoadedAppConfig {
  path: string;
  /** Directory that relative plugin paths (`use: ./provider-x`) and `.env` resolve against. */
  dir: string;
  config: AppConfig;
}

/** Loads and validates the config file; every problem is reported at once with its dot path. */
export async function loadAppConfig(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LoadedAppConfig> {
  const path = await resolveConfigPath(explicit);
  const config = await loadConfigFile(path, { env, schema: zAppConfig });
  return { path, dir: dirname(path), config };
}
