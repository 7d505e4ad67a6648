import type { z } from 'zod';
import type { ProviderManifest } from '../contract/manifest.js';
import { REDACTED, isSecretSchema, redactUrlCredentials } from '../contract/secret.js';
import { defOf } from './zod-def.js';

/** A path into an options object; `*` stands for any array index or record key. */

/** What redaction needs of a loaded provider instance (a `LoadedProvider` fits). */
export interface ProviderSecrets {
  readonly name: string;
  readonly manifest: Pick<ProviderManifest, 'optionsSchema'>;
  /** Options after the plugin's schema: secrets are found at the paths its `secret()` marks. */
  readonly options: Record<string, unknown>;
}
export type SecretPath = readonly string[];

function isMarkedSecret(schema: z.ZodType): boolean {
  if (isSecretSchema(schema)) return true;
  // A plugin bundling its own zod copy marks secrets in that copy's global registry.
  const meta = (schema as unknown as { meta?: () => Record<string, unknown> | undefined }).meta?.();
  return meta?.['x-secret'] === true;
}

function walk(schema: z.ZodType, path: string[], out: SecretPath[], depth: number): void {
  if (depth > 32) return; // recursive (lazy) schemas
  if (isMarkedSecret(schema)) {
    out.push(path);
    return;
  }
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      for (const [key, child] of Object.entries(def.shape ?? {})) walk(child, [...path, key], out, depth + 1);
      return;
    case 'array':
      if (def.element) walk(def.element, [...path, '*'], out, depth + 1);
      return;
    case 'record':
      if (def.valueType) walk(def.valueType, [...path, '*'], out, depth + 1);
      return;
    case 'union':
      for (const option of def.options ?? []) walk(option, path, out, depth + 1);
      return;
    case 'intersection':
      for (const side of [def.left, def.right]) if (side) walk(side, path, out, depth + 1);
      return;
    case 'pipe':
      for (const side of [def.in, def.out]) if (side) walk(side, path, out, depth + 1);
      return;
    default:
      if (def.innerType) walk(def.innerType, path, out, depth + 1); // optional, default, nullable, readonly, catch...
  }
}

/** The paths of every `secret()`-marked field in a plugin's options schema. */
export function secretPaths(optionsSchema: z.ZodType): SecretPath[] {
  const out: SecretPath[] = [];
  walk(optionsSchema, [], out, 0);
  const unique = new Map(out.map((path) => [path.join('\u0000'), path]));
  return [...unique.values()];
}

// Used when the plugin (and so its schema) is not known: better to hide a harmless value than print a key.
const SECRET_LOOKING_KEY = /(?:api[-_]?key|secret|token|password|passwd|credential|auth)/i;

function mapAtPaths(value: unknown, path: SecretPath, replace: (secret: unknown) => unknown): unknown {
  if (path.length === 0) return value === undefined ? value : replace(value);
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    if (head !== '*') return value;
    return value.map((item) => mapAtPaths(item, rest, replace));
  }
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const keys = head === '*' ? Object.keys(record) : Object.hasOwn(record, head!) ? [head!] : [];
  if (keys.length === 0) return value;
  const copy = { ...record };
  for (const key of keys) copy[key] = mapAtPaths(record[key], rest, replace);
  return copy;
}

function redactByKeyName(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactByKeyName);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (!SECRET_LOOKING_KEY.test(key)) return [key, redactByKeyName(item)];
      if (typeof item === 'string' || typeof item === 'number') return [key, REDACTED];
      if (Array.isArray(item)) return [key, item.map((entry) => (typeof entry === 'string' ? REDACTED : redactByKeyName(entry)))];
      return [key, redactByKeyName(item)];
    }),
  );
}

interface RedactableConfig {
  providers?: Record<string, { options?: unknown } & Record<string, unknown>>;
  cache?: unknown;
  rateLimitStore?: unknown;
}

/**
 * A copy of a config (parsed or raw) that is safe to print: every option a plugin marked with
 * `secret()` becomes `[REDACTED]` (found by walking each loaded plugin's options schema).
 * Instances without a loaded plugin fall back to redacting option keys that look secret
 * (`apiKey`, `token`, `password`...), and store URLs lose their password.
 */
export function redactConfig<T>(config: T, loadedProviders: readonly ProviderSecrets[] = []): T {
  const source = config as RedactableConfig;
  if (source === null || typeof source !== 'object') return config;
  const byName = new Map(loadedProviders.map((provider) => [provider.name, provider]));
  const providers = Object.fromEntries(
    Object.entries(source.providers ?? {}).map(([name, instance]) => {
      const loaded = byName.get(name);
      let options: unknown = redactByKeyName(instance.options);
      if (loaded) {
        options = instance.options;
        for (const path of secretPaths(loaded.manifest.optionsSchema)) options = mapAtPaths(options, path, () => REDACTED);
        options = redactByKeyName(options);
      }
      return [name, instance.options === undefined ? instance : { ...instance, options }];
    }),
  );
  const withUrl = (store: unknown) =>
    store !== null && typeof store === 'object' && 'url' in store ? { ...store, url: redactUrlCredentials((store as { url: unknown }).url) } : store;
  return {
    ...source,
    ...(source.providers && { providers }),
    ...(source.cache !== undefined && { cache: withUrl(source.cache) }),
    ...(source.rateLimitStore !== undefined && { rateLimitStore: withUrl(source.rateLimitStore) }),
  } as T;
}

/**
 * Every secret value in the loaded providers' options (as marked by their schemas), for
 * `createRedactingLogger` and error scrubbing. Empty strings are left out.
 */
export function collectSecrets(loadedProviders: readonly ProviderSecrets[]): string[] {
  const secrets = new Set<string>();
  for (const provider of loadedProviders) {
    for (const path of secretPaths(provider.manifest.optionsSchema)) {
      mapAtPaths(provider.options, path, (value) => {
        if (typeof value === 'string' || typeof value === 'number') {
          const text = String(value);
          if (text !== '') secrets.add(text);
        }
        return value;
      });
    }
  }
  return [...secrets];
}
