import * as z from 'zod';
import { OBSERVABLE_TYPES } from './observable-type.js';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');

/**
 * Lifecycle as data (the ESLint `meta.deprecated` habit): a host can report, refuse or
 * display it, and every result from a non-active provider carries it.
 */
export const zLifecycle = z
  .object({
    status: z.enum(['active', 'deprecated', 'end-of-life']).describe('Where the provider stands.'),
    deprecatedSince: isoDate.optional().describe('When it was deprecated.'),
    endOfLife: isoDate.optional().describe('When the provider (or its upstream API) reached end of life.'),
    endOfSupport: isoDate.optional().describe('When support (critical fixes) ends.'),
    replacedBy: z.string().optional().describe('Package name of the replacement plugin.'),
    message: z.string().optional().describe('What to do, for people.'),
    url: z.string().url().optional().describe('Migration guide.'),
  })
  // Hosts show and act on these dates: a retired provider must say since when.
  .refine((lifecycle) => lifecycle.status !== 'deprecated' || lifecycle.deprecatedSince !== undefined, {
    message: 'a deprecated provider needs deprecatedSince (YYYY-MM-DD)',
    path: ['deprecatedSince'],
  })
  .refine((lifecycle) => lifecycle.status !== 'end-of-life' || lifecycle.endOfLife !== undefined, {
    message: 'an end-of-life provider needs endOfLife (YYYY-MM-DD)',
    path: ['endOfLife'],
  })
  .describe('Provider lifecycle.');
export type Lifecycle = z.output<typeof zLifecycle>;

/** A rate-limit window: `requests` per `perMs` milliseconds. */
export const zRateLimitWindow = z.object({
  requests: z.number().int().positive().describe('Requests allowed per window.'),
  perMs: z.number().int().positive().describe('Window length in milliseconds.'),
});
export type RateLimitWindow = z.output<typeof zRateLimitWindow>;

/**
 * Whether `value` is a zod 4 schema. A plugin may bundle its own copy of zod, where `instanceof`
 * against core's copy fails, so a structural check backs it up.
 */
export function isZodSchema(value: unknown): value is z.ZodType {
  if (value instanceof z.ZodType) return true;
  return typeof value === 'object' && value !== null && '_zod' in value && typeof (value as { safeParse?: unknown }).safeParse === 'function';
}

/**
 * A plugin manifest: data that describes the plugin, validated when it is loaded.
 * `optionsSchema` is the plugin's own zod schema; every field must carry a description,
 * and defaults are declared in the schema (so docs and JSON Schema come from one source).
 */
export const zProviderManifest = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes').describe('Stable plugin id, e.g. `virustotal-v3`.'),
  packageName: z.string().describe('npm package name, e.g. `@x/provider-virustotal-v3`.'),
  version: z.string().describe("The plugin's version, read from its package.json."),
  displayName: z.string().min(1),
  description: z.string().min(1),
  coreRange: z.string().describe('The @x/core semver range the plugin supports.'),
  observableTypes: z.array(z.enum(OBSERVABLE_TYPES)).min(1).describe('Observable types the plugin handles.'),
  optionsSchema: z.custom<z.ZodType>(isZodSchema, 'expected a zod 4 schema'),
  defaultCacheTtlMs: z.partialRecord(z.enum(OBSERVABLE_TYPES), z.number().int().nonnegative()).describe('Default cache TTL per observable type, in ms.'),
  defaultNotFoundTtlMs: z.number().int().nonnegative().optional().describe('Default TTL for not-found outcomes, in ms.'),
  defaultRateLimits: z.array(zRateLimitWindow).describe('Default rate-limit windows (the public tier), overridable in config.'),
  /**
   * For plugins that implement `enrichMany`: the most observables one upstream request may carry,
   * and how long to wait to fill a batch. `groups` lists the types that may share one request
   * (e.g. `[['md5','sha1','sha256'], ['url']]`): the engine batches each group separately and
   * sends types outside every group through `enrich`, so a failing domain lookup never fails a
   * batch of hashes. Without `groups`, every type is batched together.
   */
  batch: z
    .object({
      maxSize: z.number().int().positive(),
      maxWaitMs: z.number().int().nonnegative().default(5),
      groups: z.array(z.array(z.enum(OBSERVABLE_TYPES)).min(1)).optional().describe('Types that may share one batch request, per group.'),
    })
    .optional(),
  docsUrl: z.string().url().describe('Where the plugin is documented (a URL).'),
  lifecycle: zLifecycle.default({ status: 'active' }),
});
export type ProviderManifest = z.output<typeof zProviderManifest>;
export type ProviderManifestInput = z.input<typeof zProviderManifest>;
