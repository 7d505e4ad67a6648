import * as z from 'zod';
import { OBSERVABLE_TYPES } from '../contract/observable-type.js';
import { zDuration } from '../contract/duration.js';
import { oneShot } from './parse-once.js';

/**
 * The configuration file, as zod schemas. Types are derived from these (never written twice);
 * the JSON Schema and the configuration reference in docs/ are generated from them.
 * Durations come out as milliseconds.
 */

/**
 * The memory cap of a file store's in-memory layer by default: 64 MiB of entries, counted as the
 * length of each entry's JSON (a parsed entry takes about as many bytes of heap: 1.07x, measured on
 * 6,000 VirusTotal v3/v2 outcomes). The files are the cache; this layer holds a run's working set
 * so a feed that repeats its observables reads each file once. A VirusTotal outcome is about
 * 1.8 KB of JSON, so 64 MiB hold ~35,000 of them: a 100,000-line feed over 10,000 distinct
 * observables and two providers (20,000 entries) stays in memory, and peak RSS under 300 MB.
 */
export const FILE_CACHE_MEMORY_BYTES = 64 * 1024 * 1024;

export const zRateLimitWindowConfig = z
  .object({
    requests: z.number().int().positive().describe('Requests allowed in each window.'),
    per: zDuration.describe('Window length, e.g. 1m or 1d.'),
  })
  .strict()
  .transform(({ requests, per }) => ({ requests, perMs: per }));

export const zInstanceCacheConfig = z
  .object({
    ttl: z
      .partialRecord(z.enum(OBSERVABLE_TYPES), zDuration)
      .optional()
      .describe("TTL per observable type; types not listed keep the plugin's default."),
    notFoundTtl: zDuration.optional().describe('TTL for not-found outcomes (default: the plugin default, else 10m).'),
  })
  .strict();

export const zRetryConfig = z
  .object({
    maxAttempts: z.number().int().min(0).max(20).default(3).describe('Retries after the first attempt (0 disables).'),
    initialDelay: zDuration.default(500).describe('First backoff delay (exponential with jitter after that).'),
    // 60 s: VirusTotal's public quota is per minute, and a 429/204 asks to wait for the window.
    maxDelay: zDuration.default(60_000).describe('Longest backoff delay, and the longest Retry-After honoured.'),
  })
  .strict();

// Count-based by default: it opens on sustained failure at any request rate (4 a minute as well
// as 400 a second). A rate-based sampling breaker (`minimumRps`) is opt-in: at low rates it never
// reaches its minimum, so it never opens.
export const zCircuitBreakerConfig = z
  .object({
    threshold: z.number().gt(0).lt(1).default(0.5).describe('Failure ratio over the last `window` calls that opens the circuit.'),
    window: z.number().int().min(1).default(20).describe('Calls in the count-based window (the last N upstream calls, whatever their rate).'),
    minimumCalls: z.number().int().min(1).default(5).describe('Calls in the window before the ratio counts: 5 calls that all fail open the circuit.'),
    consecutiveFailures: z.number().int().positive().optional().describe('Open after this many consecutive failures instead of a ratio.'),
    minimumRps: z.number().positive().optional().describe('Opt-in rate-based breaker instead: the ratio over `samplingDuration` counts only above this many calls a second.'),
    samplingDuration: zDuration.default(30_000).describe('Window of the rate-based breaker (with `minimumRps`).'),
    halfOpenAfter: zDuration.default(30_000).describe('How long the circuit stays open before a half-open probe.'),
  })
  .strict();

export const zBulkheadConfig = z
  .object({
    maxConcurrent: z.number().int().positive().default(10).describe('Upstream calls in flight at once for this instance.'),
    maxQueue: z.number().int().min(0).default(1_000).describe('Calls waiting for a slot before new ones are refused.'),
  })
  .strict();

export const zResilienceConfig = z
  .object({
    timeout: zDuration.default(10_000).describe('Per-attempt timeout.'),
    retry: z.union([z.literal(false), zRetryConfig]).default(() => zRetryConfig.parse({}, oneShot())).describe('Retry transient failures, or false.'),
    circuitBreaker: z.union([z.literal(false), zCircuitBreakerConfig]).default(() => zCircuitBreakerConfig.parse({}, oneShot())).describe('Circuit breaker, or false.'),
    bulkhead: z.union([z.literal(false), zBulkheadConfig]).default(() => zBulkheadConfig.parse({}, oneShot())).describe('Concurrency limit, or false.'),
    authProbeAfter: z
      .union([z.literal(false), zDuration])
      .optional()
      .describe(
        "After a 401/403 every call of this instance fails fast with X_UPSTREAM_AUTH; one probe call goes through after this long (false: never, for the run). Default: never in the CLI, 60 s in `serve`.",
      ),
  })
  .strict();

export const zProviderInstanceConfig = z
  .object({
    use: z.string().min(1).describe('Plugin package name (`@x/provider-virustotal-v3`) or a path (`./plugins/my-provider`).'),
    enabled: z.boolean().default(true).describe('Set false to keep an instance in the file without loading it.'),
    options: z.record(z.string(), z.unknown()).default({}).describe("The plugin's own options (validated by the plugin's schema)."),
    rateLimit: z
      .union([z.literal(false), z.array(zRateLimitWindowConfig)])
      .optional()
      .describe("Rate-limit windows, all enforced at once; omit for the plugin's defaults, false for none."),
    quota: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'quota group names use letters, digits, _ and -')
      .optional()
      .describe('A quota group (top-level `quotas`) whose budget this instance spends instead of its own `rateLimit`: instances naming one group share one budget, e.g. VirusTotal v2 and v3 on one API key.'),
    maxRateLimitWait: zDuration.default(300_000).describe('Longest a lookup waits for budget; beyond it the lookup fails fast with X_RATE_LIMIT_EXHAUSTED.'),
    cache: z.union([z.literal(false), zInstanceCacheConfig]).default({}).describe('Cache TTL overrides, or false to disable caching for this instance.'),
    resilience: zResilienceConfig.default(() => zResilienceConfig.parse({}, oneShot())).describe('Timeout, retry, circuit breaker and bulkhead.'),
  })
  .strict();

export const zStoreUnavailableBehaviour = z
  .enum(['fallback', 'refuse'])
  .describe('When a shared store is unreachable: fall back to in-memory stores with a warning, or refuse lookups.');

export const zCacheStoreConfig = z.discriminatedUnion('store', [
  z.object({
    store: z.literal('memory'),
    maxEntries: z.number().int().positive().default(100_000).describe('LRU capacity.'),
  }).strict(),
  z.object({
    store: z.literal('file'),
    dir: z.string().optional().describe("Directory for the file store (default: the user's cache directory)."),
    maxMemoryBytes: z.number().int().nonnegative().optional().describe(`Memory cap, in bytes of entry JSON (about their heap size), of the read-through layer in front of the files (the files are the cache); 0 turns it off. Default ${FILE_CACHE_MEMORY_BYTES} (64 MiB).`),
    maxEntries: z.number().int().positive().optional().describe('An additional cap on the entries kept in memory in front of the files (default: none, bytes bound the layer).'),
  }).strict(),
  z.object({
    store: z.literal('redis'),
    url: z.string().default('redis://127.0.0.1:6379').describe('Redis URL.'),
    keyPrefix: z.string().default('x-enrich:').describe('Prefix for every key, so deployments can share one Redis.'),
    onUnavailable: zStoreUnavailableBehaviour.default('fallback'),
  }).strict(),
]);

export const zRateLimitStoreConfig = z.discriminatedUnion('store', [
  z.object({ store: z.literal('memory') }).strict(),
  z.object({
    store: z.literal('file'),
    dir: z.string().optional().describe("Directory for the budgets (default: `rate-limits` in the file cache's directory). Processes on one machine using it share one budget."),
  }).strict(),
  z.object({
    store: z.literal('redis'),
    url: z.string().default('redis://127.0.0.1:6379').describe('Redis URL.'),
    keyPrefix: z.string().default('x-enrich:').describe('Prefix for every key.'),
    onUnavailable: zStoreUnavailableBehaviour.default('fallback'),
  }).strict(),
]);

export const zEnricherConfig = z
  .object({
    providers: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'instance names use letters, digits, _ and -'), zProviderInstanceConfig).describe('Provider instances by name.'),
    cache: z.union([z.literal(false), zCacheStoreConfig]).default({ store: 'memory', maxEntries: 100_000 }).describe('Where outcomes are cached, or false.'),
    quotas: z
      .record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'quota group names use letters, digits, _ and -'), z.array(zRateLimitWindowConfig))
      .default({})
      .describe('Quota groups: rate-limit windows shared by every instance that names the group in `quota` (one budget per API key).'),
    rateLimitStore: zRateLimitStoreConfig.default({ store: 'memory' }).describe('Where rate-limit budgets are kept: memory (one process), file (processes on one machine; the CLI default) or redis (a fleet).'),
    allowEndOfLife: z.boolean().default(true).describe('Load end-of-life providers (with a warning); false refuses them.'),
    concurrency: z.number().int().positive().default(16).describe('Observables looked up at once.'),
    lookupPrivateAddresses: z
      .boolean()
      .default(false)
      .describe('Send private and special IP addresses (RFC 1918, loopback, link-local, unspecified, multicast; IPv4 and IPv6) upstream too. Default: their records are `skipped` with the reason and spend no quota.'),
  })
  .strict();

export type EnricherConfig = z.output<typeof zEnricherConfig>;
export type EnricherConfigInput = z.input<typeof zEnricherConfig>;
export type ProviderInstanceConfig = z.output<typeof zProviderInstanceConfig>;
export type ResilienceConfig = z.output<typeof zResilienceConfig>;
export type CacheStoreConfig = z.output<typeof zCacheStoreConfig>;
export type RateLimitStoreConfig = z.output<typeof zRateLimitStoreConfig>;
