import type { ValidationIssue } from '../contract/x-enrich-error.js';

/** Environment variables as a plain record (`process.env` fits). */
export type Env = Readonly<Record<string, string | undefined>>;

// `${VAR}`, `${VAR:-default}` (default also used when VAR is empty, as in POSIX shells),
// and `$${...}` for a literal `${...}`.
const REFERENCE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationResult<T> {
  value: T;
  /** One issue per missing variable, at the dot path of the string that named it. */
  issues: ValidationIssue[];
}

function interpolateString(text: string, env: Env, path: string, issues: ValidationIssue[]): string {
  return text.replace(REFERENCE, (match, escape: string, name: string, fallback: string | undefined) => {
    if (escape === '$') return match.slice(1);
    // Own properties only: `${constructor}` or `${__proto__}` must not reach Object.prototype.
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    if (value === '') return '';
    issues.push({
      path,
      message: `environment variable ${name} is not set (X_CONFIG_ENV_MISSING): set it, add it to .env, or write \${${name}:-default}`,
    });
    return '';
  });
}

function walk(value: unknown, env: Env, path: string[], issues: ValidationIssue[]): unknown {
  if (typeof value === 'string') return interpolateString(value, env, path.join('.'), issues);
  if (Array.isArray(value)) return value.map((item, index) => walk(item, env, [...path, String(index)], issues));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, env, [...path, key], issues)]));
  }
  return value;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value (not in keys), returning a copy.
 * Missing variables without a default become issues (reported with all other config problems)
 * and an empty string in the value.
 */
export function interpolateEnv<T>(value: T, env: Env): InterpolationResult<T> {
  const issues: ValidationIssue[] = [];
  return { value: walk(value, env, [], issues) as T, issues };
}
