/**
 * Every stable error and warning code in x-enrich, with what it means and how to fix it.
 * Codes are never reused or renamed; `docs/reference/errors.md` is generated from this table
 * (and a test fails if the two drift). Provider packages may add their own codes, prefixed
 * with their plugin id, in their own docs.
 */
export const ERROR_CODES = {
  // Observables
  X_OBSERVABLE_INVALID: {
    meaning: 'An input could not be parsed as any supported observable, or is invalid for the type it names.',
    fix: 'Check the value; prefix it with its type (`domain:example.org`) to skip detection.',
  },
  X_OBSERVABLE_UNSUPPORTED_TYPE: {
    meaning: 'A `type:value` input names a type x-enrich does not know.',
    fix: 'Use one of ipv4, ipv6, domain, url, md5, sha1, sha256.',
  },
  // Config
  X_CONFIG_INVALID: {
    meaning: 'The configuration failed validation; every problem is listed with its dot path.',
    fix: 'Correct each listed path. `x-enrich config schema` prints the JSON Schema for editor completion.',
  },
  X_CONFIG_NOT_FOUND: {
    meaning: 'The configuration file does not exist or cannot be read.',
    fix: 'Pass `--config FILE` or create `x-enrich.yaml` in the working directory.',
  },
  X_CONFIG_PARSE: {
    meaning: 'The configuration file is not valid YAML or JSON.',
    fix: 'Fix the syntax at the reported line and column.',
  },
  X_CONFIG_ENV_MISSING: {
    meaning: 'A `${VAR}` reference names an environment variable that is not set and has no default.',
    fix: 'Set the variable (or add it to `.env`), or write `${VAR:-default}`.',
  },
  // Plugins
  X_PLUGIN_NOT_FOUND: {
    meaning: 'A provider instance names a package or path that cannot be imported.',
    fix: 'Install the package, or correct the name; the message lists the installed plugins (packages whose package.json `keywords` include `x-enrich-provider`: plugin authors must list that keyword).',
  },
  X_PLUGIN_IMPORT_FAILED: {
    meaning: 'The plugin was found but threw while it was being imported (a bug or a missing dependency of the plugin).',
    fix: 'Read the error in the message; check the plugin installs its dependencies and runs on this Node version, or report it to the plugin author.',
  },
  X_PLUGIN_INVALID: {
    meaning: 'The imported module does not export a valid plugin definition (manifest and register).',
    fix: 'Export `default definePlugin({ manifest, register })` from the plugin entry point.',
  },
  X_PLUGIN_MANIFEST_INVALID: {
    meaning: 'The plugin manifest failed validation.',
    fix: 'Correct the listed manifest fields; the plugin authoring guide describes each.',
  },
  X_PLUGIN_CORE_INCOMPATIBLE: {
    meaning: "The plugin supports a range of @x/core versions that excludes the installed one.",
    fix: 'Upgrade or downgrade the plugin or @x/core so the ranges meet; both versions are named.',
  },
  X_PLUGIN_OPTIONS_INVALID: {
    meaning: "A provider instance's options failed the plugin's own schema.",
    fix: 'Correct the listed option paths; `docs/providers/<plugin>.md` documents each option.',
  },
  X_PLUGIN_DUPLICATE_NAME: {
    meaning: 'Two provider instances share one name.',
    fix: 'Give every instance a distinct name.',
  },
  X_PLUGIN_REGISTER_FAILED: {
    meaning: "The plugin's register step threw.",
    fix: 'See the cause; this is usually a bug in the plugin.',
  },
  X_PLUGIN_LOAD_FAILED: {
    meaning: 'Several provider instances failed to load for different reasons; each problem is listed with its own code.',
    fix: 'Fix each listed problem; the codes in brackets are explained in this table.',
  },
  X_PROVIDER_END_OF_LIFE_REFUSED: {
    meaning: 'The host refuses end-of-life providers and this instance uses one.',
    fix: 'Migrate to the replacement named in the message, or allow end-of-life providers.',
  },
  // Warnings (emitted through the logger and `onWarning`, never thrown)
  X_WARN_PROVIDER_DEPRECATED: {
    meaning: 'A loaded provider is deprecated: it still works but will reach end of life.',
    fix: 'Plan the migration named in the message.',
  },
  X_WARN_PROVIDER_END_OF_LIFE: {
    meaning: 'A loaded provider is end-of-life: its upstream API or support has ended or will end.',
    fix: 'Migrate to the replacement named in the message.',
  },
  X_WARN_STORE_FALLBACK: {
    meaning: 'A shared store (for example Redis) became unreachable; this process uses in-memory stores until it returns, so the cache and rate-limit budget are no longer shared.',
    fix: 'Restore the store; the process switches back on its own. Configure `onUnavailable: refuse` if spending the quota per process is not acceptable.',
  },
  X_WARN_QUOTA_REFUSED: {
    meaning: 'The upstream refused a request for quota although the limiter granted it (another tool spends the same key, or the configured quota is higher than the real one). Logged once per blocked window.',
    fix: 'Nothing for a one-off: the window is treated as full until Retry-After (or until its oldest charge leaves) and the refused requests wait for budget again without spending a retry. If it repeats, configure the real quota.',
  },
  X_WARN_QUOTA_LOWERED: {
    meaning: 'Refusals repeated below the configured budget, so the limiter lowered its own budget to what the upstream accepted ("configured 4/min, the upstream refuses above 3/min").',
    fix: 'Configure the rate the message names, or give the other users of this API key a quota group or a key of their own.',
  },
  X_WARN_RATE_LIMIT_STATE_RECOVERED: {
    meaning: 'The file rate-limit store recovered: a lock left by a process that is gone was taken over, or a corrupt budget file was moved aside (`.corrupt-<time>`) and the shortest window treated as spent.',
    fix: 'Nothing: the store keeps working. A corrupt file that keeps coming back points at the disk or at another program writing the directory.',
  },
  // Lookups
  X_UPSTREAM_HTTP: {
    meaning: 'The upstream service answered with an HTTP error status.',
    fix: 'See the status and upstream code; 5xx are retried automatically.',
  },
  X_UPSTREAM_NETWORK: {
    meaning: 'The upstream service could not be reached (DNS, refused, reset).',
    fix: 'Check connectivity and the base URL; these are retried automatically.',
  },
  X_UPSTREAM_AUTH: {
    meaning: 'The upstream service rejected the credentials (401/403).',
    fix: 'Check the API key configured for this instance. Not retried.',
  },
  X_UPSTREAM_QUOTA: {
    meaning: 'The upstream service refused the request for quota (429, or 204 in VirusTotal v2), and the refusal could not go back to the rate limiter (no `rateLimit` configured) or came ten times in a row for one request; retries ran out.',
    fix: 'Configure the key\'s real quota as `rateLimit` (refusals then wait for budget), check whether another tool spends the same key, or wait for the quota window to reset.',
  },
  X_UPSTREAM_BAD_REQUEST: {
    meaning: 'The upstream service rejected the request as invalid (400).',
    fix: 'The observable is probably not valid for this service. Not retried.',
  },
  X_UPSTREAM_BAD_RESPONSE: {
    meaning: 'The upstream response was not valid JSON or not of the expected shape.',
    fix: 'Usually transient or an upstream change; the raw excerpt is logged at debug level.',
  },
  X_TIMEOUT: {
    meaning: 'A lookup took longer than the configured timeout.',
    fix: 'Raise `resilience.timeout`, or check the upstream service.',
  },
  X_ABORTED: {
    meaning: 'The caller aborted the lookup (signal).',
    fix: 'Nothing to fix: the run was cancelled.',
  },
  X_NOT_CACHED: {
    meaning: 'A cache-only read (for example an MCP resource) found no unexpired cached result; nothing was sent upstream.',
    fix: 'Enrich the observable first (the `enrich` command or tool), which may spend quota.',
  },
  X_CIRCUIT_OPEN: {
    meaning: "The instance's circuit breaker is open after sustained failures; lookups fail fast.",
    fix: 'Wait for the half-open probe; check the upstream service.',
  },
  X_BULKHEAD_FULL: {
    meaning: "The instance's concurrency limit and queue are full.",
    fix: 'Raise `resilience.bulkhead`, or lower the caller concurrency.',
  },
  X_RATE_LIMIT_EXHAUSTED: {
    meaning: 'A long rate-limit window (for example the day) is spent; waiting would take too long.',
    fix: 'Wait for the window to reset (the message says when) or use a key with a larger quota.',
  },
  X_STORE_UNAVAILABLE: {
    meaning: 'A shared store (cache or rate limiter) is unreachable and the configured behaviour is to refuse lookups.',
    fix: 'Restore the store (for example Redis), or configure fallback to memory.',
  },
  X_PROVIDER_FAILED: {
    meaning: 'The provider failed with an unexpected error (a bug in the provider, not an upstream fault).',
    fix: 'See the cause and report it to the plugin author.',
  },
  // The HTTP service (`x-enrich serve`) and its MCP endpoint: the `error.code` of a refused request.
  X_REQUEST_INVALID: {
    meaning: 'HTTP 400 or 415: the body is not JSON, has the wrong Content-Type, or does not match the schema (`details` lists each problem with its path).',
    fix: 'Send `Content-Type: application/json` and a body as `/docs` describes it.',
    surface: 'service',
  },
  X_UNKNOWN_PROVIDER: {
    meaning: 'HTTP 400: `providers` names an instance that is not configured.',
    fix: 'Use a name `GET /v1/providers` lists, or leave `providers` out to use every instance.',
    surface: 'service',
  },
  X_UNAUTHORIZED: {
    meaning: 'HTTP 401: the bearer token is missing or wrong (the connection is closed after the answer).',
    fix: 'Send `Authorization: Bearer <token>` with `server.token` (or X_ENRICH_TOKEN).',
    surface: 'service',
  },
  X_ORIGIN_FORBIDDEN: {
    meaning: 'HTTP 403: a browser Origin not allowed to call /mcp (a guard against DNS rebinding).',
    fix: 'Add the origin to `mcp.allowedOrigins` if it is yours.',
    surface: 'service',
  },
  X_NOT_FOUND: {
    meaning: 'HTTP 404: no such route.',
    fix: 'See `/docs` for the routes.',
    surface: 'service',
  },
  X_MCP_SESSION: {
    meaning: 'HTTP 400, 404 or 503 on /mcp: the Mcp-Session-Id is missing, unknown or expired, or `mcp.maxSessions` sessions are open.',
    fix: 'Initialize a new session (MCP clients do this themselves); on 503 wait for Retry-After or raise `mcp.maxSessions`.',
    surface: 'service',
  },
  X_REQUEST_TOO_LARGE: {
    meaning: 'HTTP 413: the body exceeds `server.bodyLimit`.',
    fix: 'Send fewer observables per request, or raise `server.bodyLimit`.',
    surface: 'service',
  },
  X_TOO_MANY_OBSERVABLES: {
    meaning: 'HTTP 413: more observables in one request than `server.maxObservables`.',
    fix: 'Split the batch, or raise the limit.',
    surface: 'service',
  },
  X_HOST_NOT_ALLOWED: {
    meaning: 'HTTP 421: the service has no token and the Host header is not one of `server.allowedHosts` (a guard against DNS rebinding).',
    fix: 'Call the service by one of its names, add the name to `server.allowedHosts`, or configure a token.',
    surface: 'service',
  },
  X_OVERLOADED: {
    meaning: "HTTP 503: every slot of a selected instance's bulkhead is taken by requests in flight; nothing was started.",
    fix: 'Send the request again after Retry-After, or raise `resilience.bulkhead`.',
    surface: 'service',
  },
  X_SHUTTING_DOWN: {
    meaning: 'HTTP 503: the service is shutting down (the request arrived during shutdown, or was still running when `server.shutdownGrace` ran out).',
    fix: 'Send the request again, to another replica.',
    surface: 'service',
  },
  X_INTERNAL: {
    meaning: 'HTTP 500: a bug in the service; its log has the details, the response never does.',
    fix: 'Report it with the log lines.',
    surface: 'service',
  },
} as const satisfies Record<string, { meaning: string; fix: string; surface?: 'service' }>;

export type ErrorCode = keyof typeof ERROR_CODES;
