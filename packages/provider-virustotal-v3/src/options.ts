import { isLoopbackHost, secret, zDuration } from '@x/core';
import * as z from 'zod';
import { EXTRACT_GROUPS, zRelationshipName } from './depth.js';
import { DEFAULT_MALICE_RULES, zMaliceRulesOption } from './malice-rules.js';

/** VirusTotal's API v3 endpoint. */
export const DEFAULT_BASE_URL = 'https://www.virustotal.com/api/v3';

/**
 * The key travels in a header; over plain http every hop could read it, so only https is
 * accepted, except for loopback hosts (the simulator, a local proxy). A query string or
 * fragment would be appended to every lookup path, so neither is allowed.
 */
const zBaseUrl = z
  .string()
  .url()
  .superRefine((value, ctx) => {
    // zod runs this even when `.url()` failed; that failure is already reported.
    if (!URL.canParse(value)) return;
    const url = new URL(value);
    // URL reports an empty `?` or `#` as '', yet `<base>?/files/<id>` would still lose the path: look at the text.
    const tail = value.search(/[?#]/);
    if (tail >= 0) ctx.addIssue({ code: 'custom', message: `baseUrl must not carry a query string or fragment, got ${JSON.stringify(value.slice(tail))}` });
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'baseUrl must not carry credentials; the API key goes in apiKey' });
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
    ctx.addIssue({
      code: 'custom',
      message: `baseUrl must use https (plain http is accepted only for loopback hosts: 127.0.0.0/8, ::1, localhost), got ${url.protocol}//${url.host}`,
    });
  })
  // Lookup paths are appended as `/<collection>/<id>`.
  .transform((value) => value.replace(/\/+$/, ''));

/**
 * Options of one `@x/provider-virustotal-v3` instance (`providers.<name>.options` in config).
 * Rate limits and cache TTLs are instance config (`rateLimit`, `cache`), not options.
 */
export const zVirusTotalV3Options = z.strictObject({
  apiKey: secret(z.string().min(1).describe('Your VirusTotal API key. Sent only in the `x-apikey` header; redacted from logs, errors and results.')),
  baseUrl: zBaseUrl
    .default(DEFAULT_BASE_URL)
    .describe('Base URL of the VirusTotal API v3. https only; plain http is accepted for loopback hosts (127.0.0.0/8, ::1, localhost), e.g. the simulator.'),
  maliceRules: zMaliceRulesOption
    .default(() => structuredClone(DEFAULT_MALICE_RULES))
    .describe(
      'Ordered verdict rules over the extracted fields and rule facts (gti_verdict, ids_high_count, sandbox_malicious_count, ...); the first match wins. Or a ready-made set by name: default, gti-preferred. Default: malicious_count >= 5 -> malicious; malicious_count >= 1 or suspicious_count >= 3 -> suspicious; otherwise benign.',
    ),
  extract: z
    .array(z.enum(EXTRACT_GROUPS))
    .default([])
    .describe(`Extra field groups to put in \`extracted\` besides the default fields: ${EXTRACT_GROUPS.join(', ')}. Costs no request (they are read from the same object); whois is long.`),
  ruleText: z.boolean().default(false).describe('With extract: [crowdsourced], also give each IDS rule\'s text (rule_raw) and each Sigma rule\'s description.'),
  yaraRulesets: z
    .number()
    .int()
    .min(0)
    .max(20)
    .default(0)
    .describe(
      'With extract: [crowdsourced], the text of up to N matched YARA rulesets (`GET /yara_rulesets/{id}`, in match order, each ruleset once): each costs ONE MORE REQUEST of quota per file that matched it. The object itself names the rules but carries no rule text. 0 fetches none.',
    ),
  relationships: z
    .array(zRelationshipName)
    .default([])
    .describe(
      'Relationships to read with the object itself (`?relationships=a,b`): one request, no extra quota. Their related objects (type and id; up to 20 each) become `related` entities and `extracted.relationships`. Names that do not apply to an observable type are skipped for it.',
    ),
  relatedObjects: z
    .array(z.strictObject({ name: zRelationshipName, limit: z.number().int().min(1).max(40).default(10).describe('related objects to fetch (VirusTotal allows 40 per page)') }))
    .default([])
    .describe(
      'Relationships whose related objects are fetched in full (`GET /{collection}/{id}/{relationship}?limit=N`): each costs ONE MORE REQUEST of quota per observable it applies to (a lookup with two costs three). Gives each related object\'s malicious_count.',
    ),
  maxAnalysisAge: zDuration
    .optional()
    .describe('Oldest analysis accepted as current (e.g. 30d). An older last_analysis_date adds a `stale_analysis` reason; see reanalyseStale.'),
  reanalyseStale: z
    .boolean()
    .default(false)
    .describe(
      'With maxAnalysisAge: ask VirusTotal to reanalyse a stale file (`POST /files/{id}/analyse`) or URL (`POST /urls`), one more request of quota, only when stale; the lookup then answers pending with the analysis id, and a later lookup reads the fresh analysis.',
    ),
  requestTimeout: zDuration.default(15_000).describe('Timeout of one HTTP request to VirusTotal (e.g. 15s).'),
}).superRefine((options, ctx) => {
  if (options.yaraRulesets > 0 && !options.extract.includes('crowdsourced')) {
    ctx.addIssue({ code: 'custom', path: ['yaraRulesets'], message: "yaraRulesets needs extract: [crowdsourced]: the rule text lands beside the crowdsourced YARA matches" });
  }
  if (options.reanalyseStale && options.maxAnalysisAge === undefined) {
    ctx.addIssue({ code: 'custom', path: ['reanalyseStale'], message: 'reanalyseStale needs maxAnalysisAge: it says when an analysis is stale' });
  }
});

export type VirusTotalV3Options = z.output<typeof zVirusTotalV3Options>;
export type VirusTotalV3OptionsInput = z.input<typeof zVirusTotalV3Options>;
