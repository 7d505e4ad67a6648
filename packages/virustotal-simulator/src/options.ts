import * as z from 'zod';

/** One quota window: at most `requests` accepted requests in any `perMs` milliseconds. */
export const zQuotaWindow = z.object({
  requests: z.number().int().positive().describe('accepted requests per window'),
  perMs: z.number().int().positive().describe('window length in milliseconds'),
});
export type QuotaWindow = z.output<typeof zQuotaWindow>;

/** How quota windows count arrivals: `sliding` (any `perMs`) or `fixed` (clock-aligned windows). */
export const zQuotaMode = z.enum(['sliding', 'fixed']);
export type QuotaMode = z.output<typeof zQuotaMode>;

const UNIT_MS: Record<string, number> = { s: 1_000, sec: 1_000, min: 60_000, m: 60_000, h: 3_600_000, hour: 3_600_000, day: 86_400_000, d: 86_400_000 };

/** Parses `N/s`, `N/min`, `N/h` or `N/day` (VirusTotal's public key: `4/min` and `500/day`). */
export function parseQuota(text: string): QuotaWindow {
  const match = /^\s*(\d+)\s*\/\s*(s|sec|min|m|h|hour|day|d)\s*$/i.exec(text);
  if (!match || Number(match[1]) < 1) throw new Error(`Invalid quota "${text}": expected N/s, N/min, N/h or N/day with N >= 1 (e.g. 4/min)`);
  return { requests: Number(match[1]), perMs: UNIT_MS[(match[2] as string).toLowerCase()] as number };
}

const rate = z.number().min(0).max(1);

/**
 * Injected faults. Rates are probabilities per API request (never for `/__sim/*`), drawn from
 * a PRNG seeded by the simulator seed, so the same requests in the same order fail the same way.
 */
export const zFaults = z
  .object({
    latencyMs: z.number().min(0).default(0).describe('fixed delay before every API response'),
    jitterMs: z.number().min(0).default(0).describe('extra uniform random delay in [0, jitterMs]'),
    errorRate: rate.default(0).describe('share of requests answered with a 5xx'),
    errorStatuses: z
      .array(z.union([z.literal(500), z.literal(502), z.literal(503)]))
      .min(1)
      .default([500, 502, 503])
      .describe('the 5xx statuses to choose from'),
    resetRate: rate.default(0).describe('share of requests whose connection is destroyed without a response'),
    truncateRate: rate.default(0).describe('share of JSON bodies cut in half (Content-Length matches the cut body)'),
    malformedRate: rate.default(0).describe('share of JSON bodies made unparseable'),
    slowBodyMs: z.number().min(0).default(0).describe('drip every body over this many milliseconds (0: off)'),
    slowBodyRate: rate.default(1).describe('share of bodies dripped when slowBodyMs > 0'),
    quotaRefusals: z.number().int().min(0).default(0).describe('refuse the next N API requests for quota (v3 429, v2 204) whatever the budget, as when another tool spends the key'),
    quotaRetryAfterS: z.number().int().min(0).optional().describe('Retry-After (seconds) sent with v3 429s; default: when the refusing window frees up (sliding/fixed), none for injected refusals'),
  })
  .strict();
export type Faults = z.output<typeof zFaults>;
export type FaultsInput = z.input<typeof zFaults>;

/** A captured response given in code rather than in a folder. */
export const zFixture = z.object({
  api: z.enum(['v3', 'v2']).optional().describe('guessed from the body when absent'),
  type: z.enum(['ip_address', 'domain', 'file', 'url']).optional().describe('guessed from the body when absent'),
  value: z.string().optional().describe('the observable it answers (ip, domain, hash or URL); guessed when absent'),
  body: z.unknown(),
});
export type Fixture = z.output<typeof zFixture>;

const zSeverity = z.enum(['SEVERITY_NONE', 'SEVERITY_LOW', 'SEVERITY_MEDIUM', 'SEVERITY_HIGH']);
const zCount = z.number().int().min(0).max(50);

/**
 * What a test forces on one generated object: GTI assessment, sandbox verdicts, crowdsourced
 * IDS / Sigma / YARA counts. Unset parts follow the object's outcome (see the README).
 */
export const zDepthControl = z
  .object({
    value: z.string().min(1).describe('the observable: an IP, a domain, a hash (any of the three) or a URL'),
    gti: z
      .object({ verdict: z.enum(['VERDICT_MALICIOUS', 'VERDICT_SUSPICIOUS', 'VERDICT_BENIGN', 'VERDICT_UNDETECTED']), threatScore: z.number().int().min(0).max(100), severity: zSeverity })
      .nullable()
      .optional()
      .describe('gti_assessment (served when the simulator option gti is true); null: none'),
    sandboxes: z.record(z.string(), z.enum(['malicious', 'suspicious', 'harmless', 'undetected'])).optional().describe('sandbox name -> category'),
    ids: z.object({ high: zCount, medium: zCount, low: zCount, info: zCount }).partial().optional().describe('crowdsourced IDS alerts per severity'),
    sigma: z.object({ critical: zCount, high: zCount, medium: zCount, low: zCount }).partial().optional().describe('Sigma matches per level'),
    yara: zCount.optional().describe('crowdsourced YARA matches'),
  })
  .strict();
export type DepthControlInput = z.input<typeof zDepthControl>;

/** The default API key: tests use it as the known good key (any other key is a bad one). */
export const DEFAULT_API_KEY = 'test-key';

export const zSimulatorOptions = z
  .object({
    port: z.number().int().min(0).max(65_535).default(0),
    host: z.string().default('127.0.0.1'),
    apiKeys: z
      .array(z.string().min(1))
      // An empty list would turn every request into a bad-key error, which is never what a test
      // means; a test that wants any key to work says ['*'].
      .min(1, 'give at least one accepted key (an empty list would refuse every request); ["*"] accepts any non-empty key')
      .default([DEFAULT_API_KEY])
      .describe('accepted keys; the entry "*" accepts any non-empty key'),
    quotas: z.array(zQuotaWindow).default([]).describe('windows enforced per key, all at once; empty: no limit'),
    quotaMode: zQuotaMode.default('sliding').describe('how quota windows count arrivals: sliding (at most N in any window length) or fixed (N per clock-aligned window)'),
    seed: z.string().default('x-enrich').describe('every generated verdict and fault derives from it'),
    faults: zFaults.default(zFaults.parse({})),
    fixturesDir: z.union([z.string(), z.array(z.string())]).optional().describe('folders of captured responses (*.json, searched recursively)'),
    fixtures: z.array(zFixture).default([]),
    maxBatch: z.number().int().min(1).default(25).describe('most resources in one v2 file/report or url/report request'),
    gti: z.boolean().default(false).describe('serve gti_assessment on generated objects, as a Google Threat Intelligence key gets'),
    depth: z.array(zDepthControl).default([]).describe('per-observable GTI, sandbox, IDS, Sigma and YARA results'),
    now: z
      .custom<() => number>((value) => typeof value === 'function', 'expected a function returning milliseconds')
      .optional()
      .describe('the time reanalyses are stamped with (default Date.now)'),
  })
  .strict();
export type SimulatorOptions = z.output<typeof zSimulatorOptions>;
export type SimulatorOptionsInput = z.input<typeof zSimulatorOptions>;

/** Parses options with every problem in one message (`path: message` lines). */
export function parseSimulatorOptions(input: SimulatorOptionsInput): SimulatorOptions {
  const parsed = zSimulatorOptions.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(options)'}: ${issue.message}`);
  throw new Error(`Invalid VirusTotal simulator options:\n${lines.join('\n')}`);
}

/** Parses a faults object (for `setFaults` and `POST /__sim/faults`). */
export function parseFaults(input: unknown): Faults {
  const parsed = zFaults.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  throw new Error(`Invalid faults: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(faults)'}: ${issue.message}`).join('; ')}`);
}
