import { describe, expect, it } from 'vitest';
import { conditionHolds, DEFAULT_MALICE_RULES, evaluateMaliceRules, formatCondition, GTI_PREFERRED_MALICE_RULES, ruleId, zMaliceRules, type MaliceRule } from './malice-rules.js';

const counts = (malicious: number, suspicious: number) => ({ malicious_count: malicious, suspicious_count: suspicious });

function issues(rules: unknown): string[] {
  const parsed = zMaliceRules.safeParse(rules);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('default malice rules (the Calseta page, not its code)', () => {
  it.each([
    [0, 0, 'benign', 'no_detections'],
    [0, 2, 'benign', 'no_detections'],
    [0, 3, 'suspicious', 'malicious_count>=1 || suspicious_count>=3'],
    [1, 0, 'suspicious', 'malicious_count>=1 || suspicious_count>=3'],
    [4, 9, 'suspicious', 'malicious_count>=1 || suspicious_count>=3'],
    [5, 0, 'malicious', 'malicious_count>=5'],
    [65, 1, 'malicious', 'malicious_count>=5'],
  ])('malicious %i, suspicious %i -> %s by %s', (malicious, suspicious, verdict, rule) => {
    const decision = evaluateMaliceRules(DEFAULT_MALICE_RULES, counts(malicious, suspicious));
    expect(decision.verdict).toBe(verdict);
    expect(decision.reasons).toHaveLength(1);
    expect(decision.reasons[0]!.rule).toBe(rule);
  });

  it('names the matched values in the reason', () => {
    const [reason] = evaluateMaliceRules(DEFAULT_MALICE_RULES, counts(0, 4)).reasons;
    expect(reason!.values).toEqual({ suspicious_count: 4 });
    expect(reason!.message).toBe('suspicious: rule malicious_count>=1 || suspicious_count>=3 matched (suspicious_count 4 >= 3)');
  });

  it('differs from the `> 0` rules Calseta seeds in code: 1-4 malicious engines are suspicious, not malicious', () => {
    expect(evaluateMaliceRules(DEFAULT_MALICE_RULES, counts(1, 0)).verdict).toBe('suspicious');
  });
});

describe('custom rules', () => {
  const rules = zMaliceRules.parse([
    { name: 'russian-and-detected', verdict: 'malicious', confidence: 'high', all: [{ field: 'country', op: 'in', value: ['RU', 'KP'] }, { field: 'malicious_count', op: '>', value: 0 }] },
    { verdict: 'suspicious', any: [{ field: 'tags', op: 'contains', value: 'TOR' }, { field: 'categories', op: 'contains', value: 'phishing' }] },
    { verdict: 'suspicious', all: [{ field: 'creation_date', op: '>=', value: '2024-01-01' }] },
    { verdict: 'benign', all: [{ field: 'malicious_count', op: '==', value: 0 }] },
  ]);

  it('applies the first rule that matches, with its confidence', () => {
    const decision = evaluateMaliceRules(rules, { country: 'RU', malicious_count: 1, tags: ['tor'] });
    expect(decision).toMatchObject({ verdict: 'malicious', confidence: 'high' });
    expect(decision.reasons[0]).toMatchObject({ rule: 'russian-and-detected', values: { country: 'RU', malicious_count: 1 } });
  });

  it('matches list fields by case-insensitive substring, including category maps', () => {
    expect(evaluateMaliceRules(rules, { malicious_count: 0, tags: ['tor', 'proxy'] }).verdict).toBe('suspicious');
    expect(evaluateMaliceRules(rules, { malicious_count: 0, categories: { Sophos: 'Phishing and fraud' } }).reasons[0]!.rule).toBe(
      'tags contains "TOR" || categories contains "phishing"',
    );
  });

  it('compares dates as instants', () => {
    expect(evaluateMaliceRules(rules, { malicious_count: 0, creation_date: '2024-03-01T00:00:00.000Z' }).verdict).toBe('suspicious');
    expect(evaluateMaliceRules(rules, { malicious_count: 0, creation_date: '2007-10-09T11:20:50.000Z' }).verdict).toBe('benign');
  });

  it('never matches a condition on a missing field, and says so when no rule matched', () => {
    const decision = evaluateMaliceRules(rules, { malicious_count: null });
    expect(decision.verdict).toBe('unknown');
    expect(decision.reasons[0]!.rule).toBe('no_rule_matched');
    expect(evaluateMaliceRules([{ verdict: 'malicious', all: [{ field: 'country', op: '!=', value: 'US' }] }], {}).verdict).toBe('unknown');
  });

  it('writes rules out as stable ids', () => {
    const rule: MaliceRule = { verdict: 'malicious', all: [{ field: 'file_size', op: '<', value: 100 }], any: [{ field: 'type_description', op: '==', value: 'ELF' }, { field: 'reputation', op: 'in', value: [-1, -2] }] };
    expect(ruleId(rule)).toBe('file_size<100 && (type_description=="ELF" || reputation in [-1,-2])');
    expect(formatCondition({ field: 'title', op: 'contains', value: 'Login' })).toBe('title contains "Login"');
  });
});

describe('rule validation', () => {
  it('accepts the defaults', () => {
    expect(issues(DEFAULT_MALICE_RULES)).toEqual([]);
  });

  it('names unknown fields and lists the valid ones', () => {
    const [problem] = issues([{ verdict: 'malicious', all: [{ field: 'positives', op: '>=', value: 5 }] }]);
    expect(problem).toMatch(/^0\.all\.0\.field: unknown field "positives"; rules can read: malicious_count, suspicious_count/);
  });

  it('refuses operators that do not fit the field, saying which do', () => {
    expect(issues([{ verdict: 'malicious', all: [{ field: 'country', op: '>=', value: 'RU' }] }])).toEqual([
      '0.all.0.op: operator ">=" does not apply to country (a string field); use ==, !=, in, contains',
    ]);
    expect(issues([{ verdict: 'malicious', all: [{ field: 'tags', op: '==', value: 'x' }] }])[0]).toContain('use contains');
  });

  it('refuses values of the wrong type', () => {
    expect(issues([{ verdict: 'malicious', all: [{ field: 'malicious_count', op: '>=', value: '5' }] }])).toEqual(['0.all.0.value: malicious_count >=: expected a number, got "5"']);
    expect(issues([{ verdict: 'malicious', all: [{ field: 'country', op: 'in', value: 'RU' }] }])[0]).toContain('expected a non-empty list');
    expect(issues([{ verdict: 'malicious', all: [{ field: 'creation_date', op: '<', value: 'last week' }] }])[0]).toContain('expected an ISO 8601 date');
  });

  it('refuses a conditionless rule before others, unknown keys and verdicts, and an empty list', () => {
    expect(issues([{ verdict: 'benign' }, { verdict: 'malicious', all: [{ field: 'malicious_count', op: '>=', value: 5 }] }])[0]).toMatch(/^0: rule 1 \(always\) has no conditions/);
    expect(issues([{ verdict: 'evil' }]).join()).toContain('verdict');
    expect(issues([{ verdict: 'benign', when: [] }]).join()).toContain('when');
    expect(issues([])).toHaveLength(1);
  });
});

describe('evaluateMaliceRules against the former every/filter/spread version, byte for byte', () => {
  /** The evaluation as it was written before the loops (issue 16), kept as the reference. */
  function reference(rules: readonly MaliceRule[], fields: Record<string, unknown>) {
    for (const rule of rules) {
      const all = rule.all ?? [];
      if (!all.every((condition) => conditionHolds(condition, fields))) continue;
      const any = rule.any ?? [];
      const anyHeld = any.filter((condition) => conditionHolds(condition, fields));
      if (any.length > 0 && anyHeld.length === 0) continue;
      const held = [...all, ...anyHeld];
      const id = ruleId(rule);
      const shownFields = held.length > 0 ? [...new Set(held.map((condition) => condition.field))] : ['malicious_count', 'suspicious_count'];
      const values = Object.fromEntries(shownFields.map((field) => [field, fields[field] ?? null]));
      const describe = (condition: (typeof held)[number]) => {
        const actual = fields[condition.field];
        const shown = Array.isArray(actual) || (typeof actual === 'object' && actual !== null) ? JSON.stringify(actual) : String(actual);
        const expected = Array.isArray(condition.value) ? `[${condition.value.join(', ')}]` : JSON.stringify(condition.value);
        return `${condition.field} ${shown} ${condition.op} ${expected}`;
      };
      const because = held.length > 0 ? held.map(describe).join(', ') : shownFields.map((field) => `${field} ${String(fields[field] ?? null)}`).join(', ');
      return { verdict: rule.verdict, confidence: rule.confidence ?? null, reasons: [{ rule: id, message: `${rule.verdict}: rule ${id} matched (${because})`, values }] };
    }
    return evaluateMaliceRules([], fields);
  }

  const ruleSets: Record<string, MaliceRule[]> = {
    default: DEFAULT_MALICE_RULES,
    'gti-preferred': GTI_PREFERRED_MALICE_RULES,
    custom: zMaliceRules.parse([
      { name: 'both', verdict: 'malicious', confidence: 'high', all: [{ field: 'malicious_count', op: '>=', value: 3 }, { field: 'tags', op: 'contains', value: 'mal' }], any: [{ field: 'country', op: 'in', value: ['RU', 'KP'] }, { field: 'malicious_count', op: '>', value: 4 }, { field: 'reputation', op: '<', value: -10 }] },
      { verdict: 'suspicious', any: [{ field: 'last_analysis_date', op: '<', value: '2020-01-01' }, { field: 'categories', op: 'contains', value: 'phish' }, { field: 'suspicious_count', op: '!=', value: 0 }] },
      { verdict: 'suspicious', all: [{ field: 'total_engines', op: '==', value: 0 }, { field: 'total_engines', op: '<=', value: 0 }] },
      { verdict: 'benign', confidence: 'low', all: [{ field: 'harmless_count', op: '>=', value: 1 }] },
    ]),
    'no fallback': zMaliceRules.parse([{ verdict: 'malicious', any: [{ field: 'malicious_count', op: '>=', value: 50 }] }]),
    unconditional: zMaliceRules.parse([{ verdict: 'benign' }]),
  };

  // Deterministic pseudo-random field sets: numbers, nulls, absent fields, lists, maps, dates.
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const fieldSets = Array.from({ length: 400 }, () => {
    const fields: Record<string, unknown> = {};
    const maybe = (name: string, values: readonly unknown[]) => {
      const value = pick([...values, null, undefined]);
      if (value !== undefined) fields[name] = value;
    };
    maybe('malicious_count', [0, 1, 2, 4, 5, 9, 70]);
    maybe('suspicious_count', [0, 2, 3, 8]);
    maybe('harmless_count', [0, 1, 60]);
    maybe('total_engines', [0, 75, 94]);
    maybe('reputation', [-50, 0, 12]);
    maybe('country', ['RU', 'US', 'KP']);
    maybe('tags', [[], ['malware', 'pe'], ['clean']]);
    maybe('categories', [{}, { a: 'phishing', b: 'news' }, { a: 'search' }]);
    maybe('last_analysis_date', ['2019-05-01T00:00:00.000Z', '2024-01-31T10:00:00.000Z']);
    maybe('gti_verdict', ['VERDICT_MALICIOUS', 'VERDICT_SUSPICIOUS', 'VERDICT_BENIGN', 'VERDICT_UNDETECTED']);
    maybe('sandbox_malicious_count', [0, 2]);
    maybe('ids_high_count', [0, 1]);
    return fields;
  });

  it.each(Object.keys(ruleSets))('%s rules: the same decision, JSON for JSON, over 400 field sets', (name) => {
    const rules = ruleSets[name]!;
    const verdicts = new Set<string>();
    for (const fields of fieldSets) {
      const decision = evaluateMaliceRules(rules, fields);
      expect(JSON.stringify(decision)).toBe(JSON.stringify(reference(rules, fields)));
      verdicts.add(decision.reasons[0]!.rule);
    }
    // The field sets reach more than one rule of each set that has several.
    if (rules.length > 1) expect(verdicts.size).toBeGreaterThan(1);
  });
});
