/**
 * Conditions on extracted fields and the ordered malice rules built from them. A rule's reason
 * names the rule and the values it saw, as the VirusTotal providers' reasons do.
 */
import * as z from 'zod';

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'exists', 'matches'] as const;
export type Operator = (typeof OPERATORS)[number];

const SYMBOL: Record<Operator, string> = { eq: '==', neq: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=', in: 'in', contains: 'contains', exists: 'exists', matches: 'matches' };

export interface Comparison {
  field: string;
  op: Operator;
  value?: unknown;
}
export type Condition = Comparison | { all: Condition[] } | { any: Condition[] } | { not: Condition };

const zComparison = z
  .strictObject({
    field: z.string().min(1).describe('An extracted field (a name under `fields`).'),
    op: z.enum(OPERATORS).describe('eq, neq (any value); gt, gte, lt, lte (numbers, or ISO dates); in (value is a list); contains (the field is a list or a string); exists (value true or false, default true); matches (value is a regular expression).'),
    value: z.unknown().optional().describe('What the field is compared with.'),
  })
  .superRefine((comparison, ctx) => {
    if (comparison.op === 'in' && !Array.isArray(comparison.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: '`in` needs a list as value' });
    if (comparison.op === 'matches') {
      try {
        new RegExp(String(comparison.value));
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: `not a regular expression: ${(error as Error).message}` });
      }
    }
    if (['gt', 'gte', 'lt', 'lte'].includes(comparison.op) && typeof comparison.value !== 'number' && typeof comparison.value !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `\`${comparison.op}\` compares with a number or an ISO date` });
    }
  });

export const zCondition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    zComparison,
    z.strictObject({ all: z.array(zCondition).min(1).describe('Every condition holds.') }),
    z.strictObject({ any: z.array(zCondition).min(1).describe('At least one condition holds.') }),
    z.strictObject({ not: zCondition.describe('The condition does not hold.') }),
  ]),
) as z.ZodType<Condition>;

/** Every field a condition reads (for the schema's check that each exists). */
export function conditionFields(condition: Condition): string[] {
  if ('all' in condition) return condition.all.flatMap(conditionFields);
  if ('any' in condition) return condition.any.flatMap(conditionFields);
  if ('not' in condition) return conditionFields(condition.not);
  return [condition.field];
}

function comparable(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\d/.test(value)) {
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

const regexCache = new Map<string, RegExp>();
function regex(source: string): RegExp {
  let compiled = regexCache.get(source);
  if (!compiled) regexCache.set(source, (compiled = new RegExp(source, 'i')));
  return compiled;
}

function compare(comparison: Comparison, fields: Readonly<Record<string, unknown>>): boolean {
  const actual = Object.hasOwn(fields, comparison.field) ? fields[comparison.field] : undefined;
  const expected = comparison.value;
  const present = actual !== undefined && actual !== null;
  switch (comparison.op) {
    case 'exists':
      return present === (expected === undefined ? true : Boolean(expected));
    case 'eq':
      return present && equal(actual, expected);
    case 'neq':
      return present && !equal(actual, expected);
    case 'in':
      return present && Array.isArray(expected) && expected.some((candidate) => equal(actual, candidate));
    case 'contains':
      if (Array.isArray(actual)) return actual.some((item) => equal(item, expected));
      return typeof actual === 'string' && actual.toLowerCase().includes(String(expected).toLowerCase());
    case 'matches':
      return typeof actual === 'string' && regex(String(expected)).test(actual);
    default: {
      const left = comparable(actual);
      const right = comparable(expected);
      if (left === undefined || right === undefined) return false;
      if (comparison.op === 'gt') return left > right;
      if (comparison.op === 'gte') return left >= right;
      if (comparison.op === 'lt') return left < right;
      return left <= right;
    }
  }
}

/** Whether `condition` holds; the comparisons that decided it are appended to `seen`. */
export function evaluate(condition: Condition, fields: Readonly<Record<string, unknown>>, seen: Comparison[] = []): boolean {
  if ('all' in condition) return condition.all.every((inner) => evaluate(inner, fields, seen));
  if ('any' in condition) return condition.any.some((inner) => evaluate(inner, fields, seen));
  if ('not' in condition) return !evaluate(condition.not, fields, []);
  const holds = compare(condition, fields);
  if (holds) seen.push(condition);
  return holds;
}

/** `score>=75`, `tags contains "botnet"`: a stable id for a rule without a name. */
export function describeCondition(condition: Condition): string {
  if ('all' in condition) return condition.all.map(describeCondition).join(' && ');
  if ('any' in condition) return `(${condition.any.map(describeCondition).join(' || ')})`;
  if ('not' in condition) return `!(${describeCondition(condition.not)})`;
  if (condition.op === 'exists') return condition.value === false ? `!${condition.field}` : condition.field;
  const value = typeof condition.value === 'string' ? JSON.stringify(condition.value) : JSON.stringify(condition.value);
  const symbolic = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'].includes(condition.op);
  return symbolic ? `${condition.field}${SYMBOL[condition.op]}${value}` : `${condition.field} ${SYMBOL[condition.op]} ${value}`;
}
