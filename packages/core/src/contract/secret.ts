import * as z from 'zod';

/**
 * Marks a schema field as a secret. Secrets are redacted everywhere x-enrich prints or logs
 * them (config show, errors, logs), are `writeOnly` in the JSON Schema, and never become part
 * of a cache key. Providers mark their API key with it: `apiKey: secret(z.string().min(1))`.
 */
export const secretFields = z.registry<{ secret: true }>();

export function secret<T extends z.ZodType>(schema: T): T {
  const marked = schema.meta({ writeOnly: true, 'x-secret': true }) as T;
  secretFields.add(marked, { secret: true });
  return marked;
}

/**
 * Whether `schema` was marked with `secret()`. A plugin with its own copy of @x/core marks its
 * key in that copy's registry, so the `x-secret` meta (kept in zod's registry, which every copy
 * of zod shares through globalThis) is the check that works across copies.
 */
export function isSecretSchema(schema: z.ZodType): boolean {
  if (secretFields.has(schema)) return true;
  const meta = typeof (schema as { meta?: unknown }).meta === 'function' ? (schema.meta() as Record<string, unknown> | undefined) : undefined;
  return meta?.['x-secret'] === true;
}

export const REDACTED = '[REDACTED]';

/** Replaces every occurrence of the given secrets in a string with `[REDACTED]`. */
export type SecretScrubber = (text: string) => string;

/**
 * The one secret scrubber of x-enrich: the upstream client, the redacting logger, the engine's
 * error normalisation and the plugin loader all use it. It replaces each secret, its
 * URL-encoded form (as in a path or query string: `encodeURIComponent`) and its form-encoded
 * form (`URLSearchParams`: spaces as `+`) with `[REDACTED]`. Longer variants go first, so one
 * secret that contains another is hidden whole. Build it once and reuse it: the variants are
 * computed here, and a text that holds no secret costs one `includes` per variant.
 */
export function createSecretScrubber(secrets: readonly string[]): SecretScrubber {
  const variants = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret === '') continue;
    variants.add(secret);
    variants.add(encodeURIComponent(secret));
    variants.add(new URLSearchParams({ s: secret }).toString().slice(2));
  }
  const ordered = [...variants].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let result = text;
    for (const variant of ordered) if (result.includes(variant)) result = result.replaceAll(variant, REDACTED);
    return result;
  };
}

/**
 * A URL safe to print or log: its password (or a lone user name, `redis://token@host`, which is
 * often the secret) becomes `[REDACTED]`. Anything that is not a URL comes back unchanged. The
 * one credential-in-URL redaction: `config show`, the store descriptions and store-redis use it.
 */
export function redactUrlCredentials<T>(url: T): T {
  if (typeof url !== 'string') return url;
  try {
    const parsed = new URL(url);
    if (parsed.password === '' && parsed.username === '') return url;
    // Placeholders, swapped for REDACTED after serialising: URL would percent-encode its brackets
    // (`%5BREDACTED%5D`), which reads as noise.
    if (parsed.password !== '') parsed.password = 'x-enrich-redacted';
    else parsed.username = 'x-enrich-redacted';
    return parsed.toString().replace('x-enrich-redacted', REDACTED) as T;
  } catch {
    return url;
  }
}
