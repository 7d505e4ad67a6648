/**
 * The options of one `@x/provider-http` instance: the whole API description, validated when the
 * config loads (templates, JMESPath expressions, rules and the fields they name), every field
 * described so `x-enrich config schema` completes it in editors, every credential marked secret.
 */
import { isLoopbackHost, OBSERVABLE_TYPES, secret, zDuration, zLifecycle } from '@x/core';
import * as z from 'zod';
import { compilePath, FIELD_TYPES } from './extract.js';
import { RECIPES, type RecipeName } from './recipes/index.js';
import { conditionFields, zCondition } from './rules.js';
import { unknownVariables } from './template.js';


const zHttpsUrl = z
  .string()
  .url()
  .superRefine((value, ctx) => {
    if (!URL.canParse(value)) return;
    const url = new URL(value);
    if (/[?#]/.test(value)) ctx.addIssue({ code: 'custom', message: 'must not carry a query string or fragment (use `query`)' });
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry credentials (use `auth`)' });
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return;
    ctx.addIssue({ code: 'custom', message: `must use https (plain http only for loopback hosts), got ${url.protocol}//${url.host}` });
  })
  .transform((value) => value.replace(/\/+$/, ''));

const zTemplate = z.string().describe('Text with `{{value}}`, `{{type}}` or `{{fields.<name>}}` (a field from an earlier step).');

const zAuth = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('header'),
      name: z.string().min(1).describe('Header name, e.g. `Key`, `X-OTX-API-KEY`.'),
      value: secret(z.string().min(1)).describe('The credential.'),
      scheme: z.string().optional().describe('Written before the value, e.g. `Token`.'),
    }),
    z.strictObject({ type: z.literal('query'), name: z.string().min(1).describe('Query parameter name, e.g. `apikey`.'), value: secret(z.string().min(1)).describe('The credential.') }),
    z.strictObject({ type: z.literal('bearer'), token: secret(z.string().min(1)).describe('Sent as `Authorization: Bearer <token>`.') }),
    z.strictObject({ type: z.literal('basic'), username: z.string().describe('User name.'), password: secret(z.string()).describe('Password.') }),
    z.strictObject({
      type: z.literal('oauth2'),
      tokenUrl: zHttpsUrl.describe('The OAuth2 token endpoint (client credentials grant).'),
      clientId: z.string().min(1).describe('Client id.'),
      clientSecret: secret(z.string().min(1)).describe('Client secret (sent with HTTP basic auth to the token endpoint).'),
      scope: z.string().optional().describe('Requested scope.'),
      audience: z.string().optional().describe('Requested audience (Auth0, Okta).'),
    }),
  ])
  .describe('How requests authenticate. The token of `oauth2` is cached until it expires.');

const zStep = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _').describe('Step name; fields say which step they come from with `from`.'),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET').describe('HTTP method.'),
    path: zTemplate.default('').describe('Path below `baseUrl`, e.g. `/check` or `/indicators/IPv4/{{value}}/general`. Each segment is percent-encoded after templating, so a value cannot change the path.'),
    query: z.record(z.string(), zTemplate).optional().describe('Query parameters (templates); values are percent-encoded.'),
    headers: z.record(z.string(), zTemplate).optional().describe('Request headers (templates); a value with CR, LF or another control character is refused.'),
    json: z.unknown().optional().describe('A JSON body; every string in it is a template.'),
    form: z.record(z.string(), zTemplate).optional().describe('A form body (application/x-www-form-urlencoded); values are templates.'),
  })
  .refine((step) => step.json === undefined || step.form === undefined, { message: 'a step sends `json` or `form`, not both' })
  .describe('One HTTP request.');
export type StepOptions = z.output<typeof zStep>;

const zField = z
  .strictObject({
    path: z.string().min(1).describe('A JMESPath expression on the response body, e.g. `data.abuseConfidenceScore`, `length(pulse_info.pulses)`.'),
    type: z.enum(FIELD_TYPES).default('any').describe('string, number, integer, boolean, list, date (ISO 8601 text or Unix seconds, given as ISO 8601), object or any. A response value of another type fails the lookup with X_UPSTREAM_BAD_RESPONSE.'),
    from: z.string().optional().describe('The step whose response it reads (default: the last step).'),
    internal: z.boolean().default(false).describe('Used by templates and rules only, not written to `extracted`.'),
  })
  .describe('A named field of the response.');

const zVerdictChoice = z.enum(['malicious', 'suspicious', 'benign', 'unknown']);
const zConfidenceChoice = z.enum(['low', 'medium', 'high']);

const zRule = z
  .strictObject({
    name: z.string().optional().describe('Stable id in `reasons[].rule` (default: the condition, e.g. `score>=75`).'),
    when: zCondition.describe('`{ field, op, value }`, or `{ all: [...] }`, `{ any: [...] }`, `{ not: ... }`.'),
    verdict: zVerdictChoice.describe('The verdict when the condition holds.'),
    confidence: zConfidenceChoice.optional().describe('Its confidence.'),
    message: zTemplate.optional().describe('For people, in the reason (templates may use fields).'),
  })
  .describe('A malice rule; the first that holds decides.');

const zEntity = z
  .strictObject({
    type: z.string().min(1).describe('Entity type, e.g. `indicator`.'),
    name: zTemplate.describe('Display name, e.g. `Indicator of {{type}}: {{value}}`.'),
    fields: z.array(z.string()).optional().describe('Extracted fields carried under the entity\'s `fields`.'),
  })
  .describe('An entity made for every found observable.');

const zRateWindow = z.strictObject({ requests: z.number().int().positive().describe('Requests per window.'), per: zDuration.describe('Window length, e.g. `1m`, `1d`.') });

const zDefinitionShape = z
  .strictObject({
    recipe: z.enum(Object.keys(RECIPES) as [RecipeName, ...RecipeName[]]).optional().describe('Start from a shipped recipe (docs/providers/http.md); every other option overrides it.'),
    apiKey: secret(z.string().min(1)).optional().describe('Shortcut: the credential for a recipe\'s header, query or bearer auth.'),
    name: z.string().min(1).describe('Display name of the source, e.g. `AbuseIPDB`.'),
    baseUrl: zHttpsUrl.describe('The API\'s base URL; https, or http on a loopback host.'),
    auth: zAuth.optional(),
    headers: z.record(z.string(), z.string()).optional().describe('Headers sent with every request.'),
    requests: z
      .partialRecord(z.enum(OBSERVABLE_TYPES), z.strictObject({ steps: z.array(zStep).min(1).describe('Requests in order; a later one may use fields of an earlier one.') }))
      .refine((requests) => Object.keys(requests).length > 0, 'name at least one observable type')
      .describe('Per observable type (ipv4, ipv6, domain, url, md5, sha1, sha256): the requests of one lookup. The instance handles exactly these types.'),
    fields: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _'), zField).default({}).describe('Named fields taken from the responses into `extracted`.'),
    notFound: z
      .strictObject({
        statuses: z.array(z.number().int().min(300).max(599)).default([404]).describe('HTTP statuses that mean "no data" (default 404).'),
        when: zCondition.optional().describe('A condition on fields that means "no data", e.g. `{ field: query_status, op: eq, value: no_results }`.'),
      })
      .default({ statuses: [404] })
      .describe('What "not found" looks like.'),
    pending: z.strictObject({ when: zCondition.describe('A condition on fields that means "queued, ask later".') }).optional().describe('What "pending" looks like.'),
    rules: z.array(zRule).default([]).describe('Malice rules, in order.'),
    otherwise: z
      .strictObject({ verdict: zVerdictChoice, confidence: zConfidenceChoice.optional() })
      .default({ verdict: 'unknown' })
      .describe('The verdict when no rule holds.'),
    entities: z.array(zEntity).default([{ type: 'indicator', name: 'Indicator of {{type}}: {{value}}' }]).describe('Entities of a found observable.'),
    cacheTtl: z.partialRecord(z.enum(OBSERVABLE_TYPES), zDuration).optional().describe('Cache TTL per type (default 1h).'),
    notFoundTtl: zDuration.optional().describe('Cache TTL of a not-found answer (default 10m).'),
    rateLimit: z.array(zRateWindow).optional().describe('The source\'s published quota (default: none); the instance\'s `rateLimit` overrides it.'),
    lifecycle: zLifecycle.optional().describe('The source API\'s lifecycle.'),
    docsUrl: z.string().url().optional().describe('Where the source is documented.'),
    timeout: zDuration.default(15_000).describe('Timeout of one HTTP request.'),
    maxResponseBytes: z.number().int().positive().default(5 * 1024 * 1024).describe('Largest response body accepted (X_UPSTREAM_BAD_RESPONSE beyond).'),
  });
type Definition = z.output<typeof zDefinitionShape>;

export const zHttpDefinition = zDefinitionShape
  .superRefine((definition, ctx) => checkReferences(definition, ctx))
  .describe('An HTTP API described in config (docs/providers/http.md).');
export type HttpDefinition = Definition;

/** Templates, JMESPath expressions and rule fields that the schema cannot check field by field. */
function checkReferences(definition: Definition, ctx: z.RefinementCtx): void {
  const fieldNames = new Set(Object.keys(definition.fields));
  for (const [name, field] of Object.entries(definition.fields)) {
    try {
      compilePath(field.path);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['fields', name, 'path'], message: `not a JMESPath expression: ${(error as Error).message}` });
    }
  }
  for (const [type, plan] of Object.entries(definition.requests)) {
    const stepNames = plan!.steps.map((step) => step.name);
    const available = new Set<string>();
    plan!.steps.forEach((step, index) => {
      const at = ['requests', type, 'steps', index];
      const texts: Array<[Array<string | number>, string]> = [[['path'], step.path]];
      for (const key of ['query', 'headers', 'form'] as const) for (const [name, text] of Object.entries(step[key] ?? {})) texts.push([[key, name], text]);
      for (const text of jsonStrings(step.json)) texts.push([['json'], text]);
      for (const [where, text] of texts) {
        const unknown = unknownVariables(text, available);
        if (unknown.length) ctx.addIssue({ code: 'custom', path: [...at, ...where], message: `unknown template variable ${unknown.map((v) => `{{${v}}}`).join(', ')}: use {{value}}, {{type}} or {{fields.<name>}} of a field from an earlier step` });
      }
      for (const [name, field] of Object.entries(definition.fields)) if ((field.from ?? stepNames.at(-1)) === step.name) available.add(name);
    });
    for (const [name, field] of Object.entries(definition.fields)) {
      if (field.from && !stepNames.includes(field.from)) ctx.addIssue({ code: 'custom', path: ['fields', name, 'from'], message: `no step named ${field.from} for ${type} (steps: ${stepNames.join(', ')})` });
    }
    if (new Set(stepNames).size !== stepNames.length) ctx.addIssue({ code: 'custom', path: ['requests', type, 'steps'], message: 'step names must be unique' });
  }
  const conditions: Array<[Array<string | number>, Parameters<typeof conditionFields>[0]]> = definition.rules.map((rule, i) => [['rules', i, 'when'], rule.when]);
  if (definition.notFound.when) conditions.push([['notFound', 'when'], definition.notFound.when]);
  if (definition.pending) conditions.push([['pending', 'when'], definition.pending.when]);
  for (const [where, condition] of conditions) {
    const missing = conditionFields(condition).filter((field) => !fieldNames.has(field));
    if (missing.length) ctx.addIssue({ code: 'custom', path: where, message: `names no field ${missing.join(', ')} (fields: ${[...fieldNames].join(', ') || 'none'})` });
  }
  definition.entities.forEach((entity, i) => {
    const unknown = unknownVariables(entity.name, fieldNames);
    if (unknown.length) ctx.addIssue({ code: 'custom', path: ['entities', i, 'name'], message: `unknown template variable ${unknown.map((v) => `{{${v}}}`).join(', ')}` });
    for (const field of entity.fields ?? []) if (!fieldNames.has(field)) ctx.addIssue({ code: 'custom', path: ['entities', i, 'fields'], message: `no field ${field}` });
  });
  definition.rules.forEach((rule, i) => {
    const unknown = rule.message ? unknownVariables(rule.message, fieldNames) : [];
    if (unknown.length) ctx.addIssue({ code: 'custom', path: ['rules', i, 'message'], message: `unknown template variable ${unknown.map((v) => `{{${v}}}`).join(', ')}` });
  });
}

/** Every string inside a JSON body template. */
export function jsonStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(jsonStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(jsonStrings);
  return [];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `override` over `base`: objects merge key by key, anything else (lists too) replaces. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = deepMerge(base[key], value);
  return merged;
}

/**
 * The options as written: a recipe (if named) with the given options over it, and `apiKey` put
 * where the recipe's auth takes its credential. Then `zHttpDefinition` validates the result, so
 * a recipe and an override are held to the same rules.
 */
function withRecipe(input: unknown): unknown {
  if (!isPlainObject(input)) return input;
  const recipe = typeof input.recipe === 'string' && Object.hasOwn(RECIPES, input.recipe) ? RECIPES[input.recipe as RecipeName] : undefined;
  const merged = recipe ? (deepMerge(recipe, input) as Record<string, unknown>) : { ...input };
  if (typeof merged.apiKey === 'string' && isPlainObject(merged.auth)) {
    const auth = merged.auth;
    if ((auth.type === 'header' || auth.type === 'query') && auth.value === undefined) merged.auth = { ...auth, value: merged.apiKey };
    if (auth.type === 'bearer' && auth.token === undefined) merged.auth = { ...auth, token: merged.apiKey };
  }
  return merged;
}

export const zHttpProviderOptions = z.preprocess(withRecipe, zHttpDefinition);
export type HttpProviderOptions = z.output<typeof zHttpProviderOptions>;
