import { z } from 'zod';

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

export function isSecretSchema(schema: z.ZodType): boolean {
  return secretFields.has(schema);
}

export const REDACTED = '[REDACTED]';
