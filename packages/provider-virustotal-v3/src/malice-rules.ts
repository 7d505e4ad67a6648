import { zConfidence, zVerdict, type Confidence, type Reason, type Verdict } from '@x/core';
import * as z from 'zod';

/**
 * What kind of value each extracted field holds; it decides which operators a condition may
 * use on it. Dates are ISO 8601 strings in the extracted fields and compare as instants.
 */
export const FIELD_KINDS = {
  malicious_count: 'number',
  suspicious_count: 'number',
  harmless_count: 'number',
  total_engines: 'number',
  reputation: 'number',
  file_size: 'number',
  country: 'string',
  as_owner: 'string',
  network: 'string',
  registrar: 'string',
  type_description: 'string',
  popular_threat_name: 'string',
  url: 'string',
  final_url: 'string',
  title: 'string',
  last_analysis_date: 'date',
  creation_date: 'date',
  first_submission_date: 'date',
  tags: 'list',
  categories: 'list',
  // Facts from the rest of the object (depth.ts ruleFacts), readable whatever `extract` holds.
  gti_verdict: 'string',
  gti_threat_score: 'number',
  gti_severity: 'string',
  threat_severity_level: 'string',
  yara_match_count: 'number',
  ids_high_count: 'number',
  ids_medium_count: 'number',
  sigma_critical_count: 'number',
  sigma_high_count: 'number',
  sandbox_malicious_count: 'number',
  sandbox_categories: 'list',
  votes_malicious: 'number',
  votes_harmless: 'number',
} as const satisfies Record<string, FieldKind>;

export type FieldKind = 'number' | 'string' | 'date' | 'list';
export type RuleField = keyof typeof FIELD_KINDS;

export const RULE_OPERATORS = ['>=', '>', '<=', '<', '==', '!=', 'in', 'contains'] as const;
export type RuleOperator = (typeof RULE_OPERATORS)[number];

/** Operators each field kind accepts; everything else is a validation error naming these. */
export const OPERATORS_BY_KIND: Record<FieldKind, readonly RuleOperator[]> = {
  number: ['>=', '>', '<=', '<', '==', '!=', 'in'],
  string: ['==', '!=', 'in', 'contains'],
  date: ['>=', '>', '<=', '<', '==', '!='],
  list: ['contains'],
};

const FIELD_NAMES = Object.keys(FIELD_KINDS) as RuleField[];

/**
 * One condition over an extracted field: `{ field: malicious_count, op: '>=', value: 5 }`.
 * `contains` is a case-insensitive substring test (on a list field: any element contains it);
 * `in` takes a list of values. A condition on a field the object does not have never matches.
 */
export const zRuleCondition = z
  .strictObject({
    field: z.string().describe(`Extracted field the condition reads: ${FIELD_NAMES.join(', ')}.`),
    op: z.enum(RULE_OPERATORS).describe('Comparison: >=, >, <=, <, ==, !=, in (value is a list) or contains (case-insensitive substring).'),
    value: z.union([z.number(), z.string(), z.array(z.union([z.number(), z.string()]))]).describe('What the field is compared with.'),
  })
  .superRefine((condition, ctx) => {
    const kind = (FIELD_KINDS as Record<string, FieldKind>)[condition.field];
    if (kind === undefined) {
      ctx.addIssue({ code: 'custom', path: ['field'], message: `unknown field "${condition.field}"; rules can read: ${FIELD_NAMES.join(', ')}` });
      return;
    }
    const allowed = OPERATORS_BY_KIND[kind];
    if (!allowed.includes(condition.op)) {
      ctx.addIssue({ code: 'custom', path: ['op'], message: `operator "${condition.op}" does not apply to ${condition.field} (a ${kind} field); use ${allowed.join(', ')}` });
      return;
    }
    const problem = valueProblem(kind, condition.op, condition.value);
    if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: `${condition.field} ${condition.op}: ${problem}` });
  });

function valueProblem(kind: FieldKind, op: RuleOperator, value: unknown): string | undefined {
  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0) return 'expected a non-empty list of values';
    const wanted = kind === 'number' ? 'number' : 'string';
    return value.every((item) => typeof item === wanted) ? undefined : `expected a list of ${wanted}s`;
  }
  if (Array.isArray(value)) return `expected a single value (only "in" takes a list)`;
  if (kind === 'number') return typeof value === 'number' ? undefined : `expected a number, got ${JSON.stringify(value)}`;
  if (kind === 'date') {
    return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? undefined : `expected an ISO 8601 date such as "2024-01-31", got ${JSON.stringify(value)}`;
  }
  return typeof value === 'string' ? undefined : `expected a string, got ${JSON.stringify(value)}`;
}

/**
 * One malice rule: the verdict it gives when its conditions hold. `all` conditions must all
 * hold and at least one `any` condition must hold (when given); a rule with neither always
 * matches, so it may only be the last rule (the fallback for a found object).
 */
export const zMaliceRule = z
  .strictObject({
    name: z.string().min(1).optional().describe('Identifier reported in `reasons[].rule`; default: the rule written out, e.g. `malicious_count>=5`.'),
    verdict: zVerdict.describe('Verdict when the rule matches.'),
    confidence: zConfidence.optional().describe('Confidence reported with the verdict; default none (null).'),
    all: z.array(zRuleCondition).optional().describe('Conditions that must all hold.'),
    any: z.array(zRuleCondition).optional().describe('Conditions of which at least one must hold.'),
  })
  .describe('A malice rule.');

export type MaliceRule = z.output<typeof zMaliceRule>;
export type RuleCondition = z.output<typeof zRuleCondition>;

/**
 * The default rules, as documented on Calseta's VirusTotal page (not the `> 0` rules its code
 * seeds): 5 or more malicious engines -> malicious; 1 or more malicious or 3 or more suspicious
 * -> suspicious; otherwise (found, no detections) -> benign.
 */
export const DEFAULT_MALICE_RULES: MaliceRule[] = [
  { verdict: 'malicious', all: [{ field: 'malicious_count', op: '>=', value: 5 }] },
  {
    verdict: 'suspicious',
    any: [
      { field: 'malicious_count', op: '>=', value: 1 },
      { field: 'suspicious_count', op: '>=', value: 3 },
    ],
  },
  { name: 'no_detections', verdict: 'benign' },
];

/**
 * A ready-made rule set that prefers Google Threat Intelligence's verdict when the key gets one
 * (`gti_assessment`, GTI-enabled keys only), as OpenCTI's connector scores by GTI: GTI's
 * malicious, suspicious and benign verdicts decide first (an undetected or absent GTI verdict
 * decides nothing). Then the default detection-count rules, and before the benign fallback,
 * a malicious sandbox verdict or a high-severity crowdsourced IDS alert makes an object with
 * no engine detections suspicious. Ask for it with `maliceRules: gti-preferred`.
 */
export const GTI_PREFERRED_MALICE_RULES: MaliceRule[] = [
  { name: 'gti_malicious', verdict: 'malicious', confidence: 'high', all: [{ field: 'gti_verdict', op: '==', value: 'VERDICT_MALICIOUS' }] },
  { name: 'gti_suspicious', verdict: 'suspicious', confidence: 'medium', all: [{ field: 'gti_verdict', op: '==', value: 'VERDICT_SUSPICIOUS' }] },
  { name: 'gti_benign', verdict: 'benign', confidence: 'high', all: [{ field: 'gti_verdict', op: '==', value: 'VERDICT_BENIGN' }] },
  ...DEFAULT_MALICE_RULES.slice(0, -1),
  {
    name: 'sandbox_or_ids',
    verdict: 'suspicious',
    confidence: 'low',
    any: [
      { field: 'sandbox_malicious_count', op: '>=', value: 1 },
      { field: 'ids_high_count', op: '>=', value: 1 },
    ],
  },
  { name: 'no_detections', verdict: 'benign' },
];

/** Rule sets a config may name instead of listing rules (`maliceRules: gti-preferred`). */
export const MALICE_RULE_PRESETS = { default: DEFAULT_MALICE_RULES, 'gti-preferred': GTI_PREFERRED_MALICE_RULES } as const satisfies Record<string, MaliceRule[]>;
export type MaliceRulePreset = keyof typeof MALICE_RULE_PRESETS;

/** An ordered list of rules; the first that matches decides. */
export const zMaliceRules = z
  .array(zMaliceRule)
  .min(1)
  .superRefine((rules, ctx) => {
    rules.forEach((rule, index) => {
      const unconditional = (rule.all?.length ?? 0) + (rule.any?.length ?? 0) === 0;
      if (unconditional && index < rules.length - 1) {
        ctx.addIssue({
          code: 'custom',
          path: [index],
          message: `rule ${index + 1} (${ruleId(rule)}) has no conditions, so it always matches and the ${rules.length - 1 - index} rule(s) after it could never apply; move it to the end or add conditions`,
        });
      }
      if (rule.any !== undefined && rule.any.length === 0) {
        ctx.addIssue({ code: 'custom', path: [index, 'any'], message: 'an empty "any" list can never hold; remove it or add conditions' });
      }
    });
  });

/**
 * The `maliceRules` option: a list, or the name of a ready-made set (`default`, `gti-preferred`),
 * which becomes its list. (The config loader reports a bad list inside the list branch.)
 */
export const zMaliceRulesOption = z.union([
  z
    .enum(Object.keys(MALICE_RULE_PRESETS) as [MaliceRulePreset, ...MaliceRulePreset[]])
    .describe('A ready-made rule set: default (the Calseta thresholds) or gti-preferred (Google Threat Intelligence verdict first).')
    .transform((name) => structuredClone(MALICE_RULE_PRESETS[name])),
  zMaliceRules,
]);

/** The extracted fields rules read (the mapping's output). */
export type RuleFields = Readonly<Record<string, unknown>>;

/** The outcome of evaluating the rules over one object's fields. */
export interface RuleDecision {
  verdict: Verdict;
  confidence: Confidence | null;
  reasons: Reason[];
}

/** `malicious_count>=5`, `country in [RU,KP]`, `tags contains "malware"`. */
export function formatCondition(condition: RuleCondition): string {
  if (condition.op === 'in') return `${condition.field} in [${(condition.value as Array<string | number>).join(',')}]`;
  if (condition.op === 'contains') return `${condition.field} contains ${JSON.stringify(condition.value)}`;
  return `${condition.field}${condition.op}${typeof condition.value === 'string' ? JSON.stringify(condition.value) : String(condition.value)}`;
}

/** The rule's stable identifier: its name, or the rule written out. */
export function ruleId(rule: MaliceRule): string {
  if (rule.name) return rule.name;
  // Rules are parsed once from options and never changed: every matched lookup reads the same id.
  let id = ruleIds.get(rule);
  if (id === undefined) ruleIds.set(rule, (id = writtenOut(rule)));
  return id;
}

const ruleIds = new WeakMap<MaliceRule, string>();

function writtenOut(rule: MaliceRule): string {
  const all = (rule.all ?? []).map(formatCondition);
  const any = (rule.any ?? []).map(formatCondition);
  if (all.length === 0 && any.length === 0) return 'always';
  const anyText = any.length > 1 && all.length > 0 ? `(${any.join(' || ')})` : any.join(' || ');
  return [all.join(' && '), anyText].filter(Boolean).join(' && ');
}

function asTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

function listOf(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  // `categories` is a vendor -> category map; rules test the categories.
  if (typeof value === 'object' && value !== null) return Object.values(value).filter((item): item is string => typeof item === 'string');
  return undefined;
}

function compare(actual: number, op: RuleOperator, expected: number): boolean {
  switch (op) {
    case '>=':
      return actual >= expected;
    case '>':
      return actual > expected;
    case '<=':
      return actual <= expected;
    case '<':
      return actual < expected;
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
    default:
      return false;
  }
}

/** Whether one condition holds. A missing (null or absent) field never satisfies a condition. */
export function conditionHolds(condition: RuleCondition, fields: RuleFields): boolean {
  const kind = (FIELD_KINDS as Record<string, FieldKind>)[condition.field];
  const actual = fields[condition.field];
  if (actual === null || actual === undefined || kind === undefined) return false;
  const { op, value } = condition;
  switch (kind) {
    case 'number':
      if (typeof actual !== 'number') return false;
      if (op === 'in') return (value as unknown[]).includes(actual);
      return typeof value === 'number' && compare(actual, op, value);
    case 'date': {
      const time = asTime(actual);
      const expected = asTime(value);
      return time !== undefined && expected !== undefined && compare(time, op, expected);
    }
    case 'string': {
      if (typeof actual !== 'string') return false;
      if (op === 'in') return (value as unknown[]).includes(actual);
      if (op === 'contains') return typeof value === 'string' && actual.toLowerCase().includes(value.toLowerCase());
      if (op === '==') return actual === value;
      if (op === '!=') return actual !== value;
      return false;
    }
    case 'list': {
      const items = listOf(actual);
      return op === 'contains' && typeof value === 'string' && items !== undefined && items.some((item) => item.toLowerCase().includes(value.toLowerCase()));
    }
  }
}

const NO_CONDITIONS: readonly RuleCondition[] = [];

/**
 * The conditions that made `rule` match (empty for a conditionless rule), or undefined when it
 * does not: its `all` conditions, then the `any` conditions that held. Loops rather than
 * every/filter/spread: this runs for every rule of every found object (issue 16).
 */
function matchedConditions(rule: MaliceRule, fields: RuleFields): readonly RuleCondition[] | undefined {
  const all = rule.all;
  if (all) for (let i = 0; i < all.length; i++) if (!conditionHolds(all[i]!, fields)) return undefined;
  const any = rule.any;
  if (!any || any.length === 0) return all ?? NO_CONDITIONS;
  let held: RuleCondition[] | undefined;
  for (let i = 0; i < any.length; i++) {
    const condition = any[i]!;
    if (conditionHolds(condition, fields)) (held ??= all ? all.slice() : []).push(condition);
  }
  return held;
}

/** `malicious_count 7 >= 5`. */
function describeHeld(condition: RuleCondition, fields: RuleFields): string {
  const actual = fields[condition.field];
  const shown = Array.isArray(actual) || (typeof actual === 'object' && actual !== null) ? JSON.stringify(actual) : String(actual);
  // A finite number's JSON is its String (the default rules' values), without the call.
  const value = condition.value;
  const expected = typeof value === 'number' && Number.isFinite(value) ? String(value) : Array.isArray(value) ? `[${value.join(', ')}]` : JSON.stringify(value);
  return `${condition.field} ${shown} ${condition.op} ${expected}`;
}

/**
 * Evaluates `rules` in order over an object's extracted fields; the first rule that matches
 * gives the verdict. `reasons[0].rule` is the rule's id, its message and `values` hold the
 * values that matched (for a conditionless rule: the detection counts). When no rule matches
 * the verdict is `unknown`, with a reason saying so.
 */
export function evaluateMaliceRules(rules: readonly MaliceRule[], fields: RuleFields): RuleDecision {
  for (const rule of rules) {
    const held = matchedConditions(rule, fields);
    if (held === undefined) continue;
    const id = ruleId(rule);
    // The fields shown (each once, in the order of the conditions), their values and the message.
    const values: Record<string, unknown> = {};
    let because = '';
    if (held.length > 0) {
      for (let i = 0; i < held.length; i++) {
        const condition = held[i]!;
        if (!Object.hasOwn(values, condition.field)) values[condition.field] = fields[condition.field] ?? null;
        because += (i === 0 ? '' : ', ') + describeHeld(condition, fields);
      }
    } else {
      const malicious = fields.malicious_count ?? null;
      const suspicious = fields.suspicious_count ?? null;
      values.malicious_count = malicious;
      values.suspicious_count = suspicious;
      because = `malicious_count ${String(malicious)}, suspicious_count ${String(suspicious)}`;
    }
    return {
      verdict: rule.verdict,
      confidence: rule.confidence ?? null,
      reasons: [{ rule: id, message: `${rule.verdict}: rule ${id} matched (${because})`, values }],
    };
  }
  return {
    verdict: 'unknown',
    confidence: null,
    reasons: [{ rule: 'no_rule_matched', message: 'No malice rule matched this object; the verdict is unknown. Add a last rule without conditions to set a fallback verdict.' }],
  };
}
