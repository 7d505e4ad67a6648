import type { z } from 'zod';
import type { ValidationIssue } from '../contract/x-enrich-error.js';

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

export interface ValidationIssuesOptions {
  /** Prepended to every path, e.g. `providers.vt3.options` for a plugin's options. */
  prefix?: string;
  /** The value that was validated; lets messages quote what was given (a discriminator like `store: tape`). */
  input?: unknown;
}

function joinPath(prefix: readonly PathKey[], path: readonly PathKey[]): PathKey[] {
  return [...prefix, ...path];
}

function formatPath(path: readonly PathKey[]): string {
  return path.map(String).join('.');
}

function valueAt(input: unknown, path: readonly PathKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

// A branch "was not meant" when it failed on the value's very type: `false` given for
// `false | [...]` fails the array branch only at the root with invalid_type / invalid_value.
function rejectedAtRoot(branch: readonly Issue[]): boolean {
  return branch.every((issue) => issue.path.length === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value'));
}

function describeExpected(branch: readonly Issue[]): string[] {
  return branch.flatMap((issue) => {
    if (issue.code === 'invalid_type') return [issue.expected];
    if (issue.code === 'invalid_value') return issue.values.map((value) => JSON.stringify(value));
    return [];
  });
}

function received(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function flatten(issue: Issue, base: readonly PathKey[], input: unknown, out: Array<{ path: PathKey[]; message: string }>): void {
  const path = joinPath(base, issue.path);
  if (issue.code === 'invalid_union') {
    // zod 4 discriminated unions: a discriminator value that matches no option.
    const discriminated = issue as Issue & { discriminator?: string; options?: unknown[]; note?: string };
    if (discriminated.options !== undefined && issue.errors.length === 0) {
      const given = valueAt(input, path);
      const allowed = discriminated.options.map((option) => JSON.stringify(option)).join(', ');
      out.push({ path, message: `${given === undefined ? 'missing' : `unknown value ${JSON.stringify(given)}`}; expected one of ${allowed}` });
      return;
    }
    const meant = issue.errors.filter((branch) => !rejectedAtRoot(branch));
    if (meant.length > 0) {
      // Several plausible branches: the one with the fewest problems is the closest to what was meant.
      const best = meant.reduce((a, b) => (b.length < a.length ? b : a));
      for (const inner of best) flatten(inner, path, input, out);
      return;
    }
    const expected = [...new Set(issue.errors.flatMap(describeExpected))];
    const message = expected.length > 0 ? `expected ${expected.join(' or ')}, received ${received(valueAt(input, path))}` : issue.message;
    out.push({ path, message });
    return;
  }
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown key (not part of the schema; check the spelling)' });
    return;
  }
  if (issue.code === 'invalid_type' && valueAt(input, path) === undefined && input !== undefined) {
    out.push({ path, message: `required (expected ${issue.expected})` });
    return;
  }
  out.push({ path, message: issue.message });
}

/**
 * Turns a zod error into `{ path, message }` issues with dot paths, one per problem.
 * Unlike zod's own output, union failures are reported inside the branch that was meant:
 * `rateLimit: [{ requests: 0 }]` yields `rateLimit.0.requests`, not a bare `rateLimit`, and a
 * discriminator that matches no option (`cache: { store: tape }`) names the allowed values.
 */
export function validationIssues(error: z.ZodError | { issues: readonly Issue[] }, options: ValidationIssuesOptions = {}): ValidationIssue[] {
  const out: Array<{ path: PathKey[]; message: string }> = [];
  for (const issue of error.issues) flatten(issue, [], options.input, out);
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const { path, message } of out) {
    const dotted = [options.prefix, formatPath(path)].filter((part) => part !== undefined && part !== '').join('.');
    const key = `${dotted}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path: dotted, message });
  }
  return issues;
}
