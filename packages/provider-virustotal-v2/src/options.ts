import { isLoopbackHost, secret, zDuration } from '@x/core';
import * as z from 'zod';

/** VirusTotal's public v2 endpoint (End of Life 2021-08-11). */
export const DEFAULT_API_URL = 'https://www.virustotal.com/vtapi/v2/';

/** The public API takes 4 resources per batched report request; private keys take up to 25. */
export const PUBLIC_BATCH_SIZE = 4;
export const PRIVATE_BATCH_SIZE_MAX = 25;


/**
 * The API key travels in the query string in v2, so plain http would leak it to every hop:
 * only https is accepted, except for loopback hosts (the simulator, a local proxy). Endpoint
 * paths resolve against this base, which drops its query string and fragment (and the trailing
 * `/` would land after them), so neither is allowed; credentials are refused because the key
 * has its own option and a URL is no place for secrets.
 */
const zApiUrl = z
  .string()
  .url()
  .superRefine((value, ctx) => {
    // zod runs this even when `.url()` failed; that failure is already reported.
    if (!URL.canParse(value)) return;
    const url = new URL(value);
    // The text, not url.search/url.hash: URL reports an empty `?` or `#` as ''. The query is not
    // echoed: a v2 query is where an API key would be (`?apikey=…`).
    if (/[?#]/.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'apiUrl must not carry a query string or fragment: the provider adds each request\'s parameters itself, and the API key goes in apiKey' });
    }
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'apiUrl must not carry credentials; the API key goes in apiKey' });
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
    ctx.addIssue({
      code: 'custom',
      message: `apiUrl must use https (plain http is accepted only for loopback hosts such as 127.0.0.1), got ${url.protocol}//${url.host}`,
    });
  })
  // Relative endpoint paths (`file/report`) resolve under the base only when it ends with `/`.
  .transform((value) => (value.endsWith('/') ? value : `${value}/`));

const zInfectionRate = z.number().min(0).max(99);

/**
 * Options of one `@x/provider-virustotal-v2` instance (`providers.<name>.options` in config).
 * Defaults follow the EclecticIQ APIv2 enricher this provider reproduces.
 */
export const zVirusTotalV2Options = z
  .strictObject({
    apiUrl: zApiUrl
      .default(DEFAULT_API_URL)
      .describe('Base URL of the VirusTotal API v2. https only; plain http is accepted for loopback hosts (the simulator). No query string, fragment or credentials.'),
    apiKey: secret(z.string().min(1).describe('Your VirusTotal API key. Sent as the `apikey` query parameter; redacted from logs, errors and results.')),
    lowConfidenceInfectionRateMax: zInfectionRate
      .default(33)
      .describe('Infection rates (positives / engines x 100) below this are flagged malicious with low confidence. 0 to 99; must be lower than highConfidenceInfectionRateMin.'),
    highConfidenceInfectionRateMin: zInfectionRate
      .default(66)
      .describe('Infection rates above this are flagged malicious with high confidence; rates from the low maximum to this value (inclusive) get medium confidence. 0 to 99.'),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(PRIVATE_BATCH_SIZE_MAX)
      .default(PUBLIC_BATCH_SIZE)
      .describe('Hashes or URLs per batched file/report or url/report request: 4 on the public API, up to 25 with a private key.'),
    requestTimeout: zDuration.default(20_000).describe('Timeout of one HTTP request to VirusTotal (e.g. 20s).'),
    hostVerdict: z
      .enum(['worst-url', 'unrated'])
      .default('worst-url')
      .describe(
        'How a domain or IP gets its verdict (v2 has no scan of its own for them). worst-url (default, as the EclecticIQ enricher): the infection rate of the worst URL VirusTotal saw on the host, so one odd URL makes popular infrastructure "malicious, low". unrated: no verdict (unknown, with the fields), leaving hosts to other providers.',
      ),
    hostMinUrlInfectionRate: zInfectionRate
      .default(0)
      .describe('With hostVerdict worst-url: detected URLs whose infection rate is below this (0 to 99) are ignored as noise; 0 (default) counts every detected URL. E.g. 20 leaves 8.8.8.8, 1.1.1.1, python.org and github.com benign on real captures.'),
  })
  .superRefine((options, ctx) => {
    const low = options.lowConfidenceInfectionRateMax;
    const high = options.highConfidenceInfectionRateMin;
    if (low < high) return;
    // One issue per field, so a config editor points at both; each names both values.
    const message = `lowConfidenceInfectionRateMax (${low}) must be lower than highConfidenceInfectionRateMin (${high})`;
    ctx.addIssue({ code: 'custom', path: ['lowConfidenceInfectionRateMax'], message });
    ctx.addIssue({ code: 'custom', path: ['highConfidenceInfectionRateMin'], message });
  });

export type VirusTotalV2Options = z.output<typeof zVirusTotalV2Options>;
export type VirusTotalV2OptionsInput = z.input<typeof zVirusTotalV2Options>;

/** The two thresholds the infection-rate rules read. */
export type InfectionRateThresholds = Pick<VirusTotalV2Options, 'lowConfidenceInfectionRateMax' | 'highConfidenceInfectionRateMin'>;

/** What the mapping reads: the thresholds and (optional: the default is the EclecticIQ rule) how hosts are judged. */
export type MappingOptions = InfectionRateThresholds & Partial<Pick<VirusTotalV2Options, 'hostVerdict' | 'hostMinUrlInfectionRate'>>;
