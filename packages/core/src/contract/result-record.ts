import * as z from 'zod';
import { OBSERVABLE_TYPES } from './observable-type.js';
import { zLifecycle } from './manifest.js';

/**
 * The result record: one per observable x provider instance. Field names are a public contract
 * for host platforms (documented in docs/reference/result-format.md, exported as JSON Schema).
 * "Not found", "clean" and "failed" never look alike: they differ in `status`, and only `ok`
 * records carry a `benign` verdict.
 */
export const zVerdict = z.enum(['malicious', 'suspicious', 'benign', 'unknown']).describe('What the provider concluded. `unknown` whenever status is not `ok`, or when the provider had no basis for a verdict.');
export type Verdict = z.output<typeof zVerdict>;

/** Verdicts from worst to best; used to compute a summary's worst verdict. */
export const VERDICT_SEVERITY: Record<Verdict, number> = { malicious: 3, suspicious: 2, benign: 1, unknown: 0 };

export const zConfidence = z.enum(['low', 'medium', 'high']).describe('How sure the provider is of its verdict, when it can say.');
export type Confidence = z.output<typeof zConfidence>;

export const zStatus = z
  .enum(['ok', 'not_found', 'pending', 'error', 'unsupported', 'skipped'])
  .describe('ok: looked up and found; not_found: the provider has no data on it; pending: queued upstream, ask again later; error: the lookup failed (see `error`); unsupported: the provider does not handle this observable type; skipped: not attempted (the run was aborted, or a private or special address that is not sent upstream: see `reasons`). An input that cannot be parsed gives `error` records with code X_OBSERVABLE_INVALID and a null `observable`.');
export type Status = z.output<typeof zStatus>;

export const zReason = z
  .object({
    rule: z.string().describe('Stable identifier of the rule or threshold that decided, e.g. `malicious_count>=5`.'),
    message: z.string().describe('The same, for people: which values matched.'),
    values: z.record(z.string(), z.unknown()).optional().describe('The values that matched, for machines.'),
  })
  .describe('Why the verdict is what it is.');
export type Reason = z.output<typeof zReason>;

export const zEntity = z
  .looseObject({
    type: z.string().describe('Entity type, e.g. `indicator`, `ttp`.'),
    name: z.string().describe('Display name, e.g. `Indicator of domain: example.org`.'),
  })
  .describe('An entity derived from the lookup; providers may add fields.');
export type Entity = z.output<typeof zEntity>;

export const zRecordError = z
  .object({
    code: z.string().describe('Stable error code (docs/reference/errors.md).'),
    message: z.string().describe('What happened and what to do; never contains secrets.'),
    retryable: z.boolean().describe('Whether asking again later may succeed.'),
  })
  .describe('Why the lookup failed.');

export const zCacheInfo = z
  .object({
    hit: z.boolean().describe('Whether this record came from the cache.'),
    storedAt: z.string().nullable().describe('When the cached outcome was stored (ISO 8601), null on a miss.'),
    ageSeconds: z.number().nullable().describe('Age of the cached outcome in seconds, null on a miss.'),
  })
  .describe('Cache provenance.');

export const zObservableRef = z.object({
  type: z.enum(OBSERVABLE_TYPES).describe('Observable type.'),
  value: z.string().describe('Normalized value.'),
});

export const zProviderRef = z.object({
  name: z.string().describe('Instance name from config.'),
  plugin: z.string().describe('Plugin id from its manifest.'),
  version: z.string().describe('Plugin version.'),
  lifecycle: zLifecycle.optional().describe('Present when the plugin is deprecated or end-of-life.'),
});

export const zResultRecord = z.object({
  observable: zObservableRef.nullable().describe('The normalized observable; null only when the input could not be parsed (status `error`, code X_OBSERVABLE_INVALID).'),
  input: z.string().describe('What the user gave, before refanging and normalization.'),
  provider: zProviderRef.describe('Which provider instance produced this record.'),
  status: zStatus,
  verdict: zVerdict,
  confidence: zConfidence.nullable(),
  reasons: z.array(zReason).describe('Which rule or threshold decided the verdict.'),
  extracted: z.record(z.string(), z.unknown()).describe("The provider's extracted fields (see each provider's page)."),
  entities: z.array(zEntity).describe('Entities derived from the lookup.'),
  error: zRecordError.nullable(),
  cache: zCacheInfo,
  fetchedAt: z.string().nullable().describe('When the upstream data was fetched (ISO 8601); for a cache hit, when it was originally fetched.'),
  raw: z.unknown().optional().describe('The raw upstream response, when the host asked for it.'),
});
export type ResultRecord = z.output<typeof zResultRecord>;

export const zObservableSummary = z.object({
  observable: zObservableRef.nullable().describe('The normalized observable; null when the input could not be parsed.'),
  input: z.string(),
  verdict: zVerdict.describe('The worst verdict across providers (malicious > suspicious > benign > unknown).'),
  decidedBy: z.array(z.string()).describe('Instance names whose verdict equals the worst verdict (empty when unknown).'),
  providers: z
    .record(z.string(), z.object({ status: zStatus, verdict: zVerdict, confidence: zConfidence.nullable() }))
    .describe('Status and verdict per instance.'),
});
export type ObservableSummary = z.output<typeof zObservableSummary>;
