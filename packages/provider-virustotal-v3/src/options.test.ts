import { isSecretSchema } from '@x/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MALICE_RULES } from './malice-rules.js';
import { DEFAULT_BASE_URL, zVirusTotalV3Options } from './options.js';

function problems(options: Record<string, unknown>): string[] {
  const parsed = zVirusTotalV3Options.safeParse(options);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('options', () => {
  it('needs only the key and declares every default', () => {
    // The depth options default to the seed's behaviour: no extra groups, requests or reasons.
    expect(zVirusTotalV3Options.parse({ apiKey: 'k' })).toEqual({
      apiKey: 'k',
      baseUrl: DEFAULT_BASE_URL,
      maliceRules: DEFAULT_MALICE_RULES,
      extract: [],
      ruleText: false,
      yaraRulesets: 0,
      relationships: [],
      relatedObjects: [],
      reanalyseStale: false,
      requestTimeout: 15_000,
    });
  });

  it('takes a ready-made rule set by name, and refuses reanalysis without a maximum age', () => {
    expect(zVirusTotalV3Options.parse({ apiKey: 'k', maliceRules: 'gti-preferred' }).maliceRules[0]).toMatchObject({ name: 'gti_malicious' });
    expect(zVirusTotalV3Options.parse({ apiKey: 'k', maliceRules: 'default' }).maliceRules).toEqual(DEFAULT_MALICE_RULES);
    expect(problems({ apiKey: 'k', reanalyseStale: true })).toEqual(['reanalyseStale: reanalyseStale needs maxAnalysisAge: it says when an analysis is stale']);
    expect(problems({ apiKey: 'k', relationships: ['contacted_domain'] })[0]).toMatch(/^relationships\.0: unknown relationship; known: /);
    expect(problems({ apiKey: 'k', relatedObjects: [{ name: 'resolutions', limit: 41 }] })[0]).toMatch(/^relatedObjects\.0\.limit:/);
    expect(zVirusTotalV3Options.parse({ apiKey: 'k', maxAnalysisAge: '30d' }).maxAnalysisAge).toBe(30 * 86_400_000);
  });

  it('describes every field and marks the key secret', () => {
    for (const [name, field] of Object.entries(zVirusTotalV3Options.shape)) expect(field.description, name).toBeTruthy();
    expect(isSecretSchema(zVirusTotalV3Options.shape.apiKey)).toBe(true);
  });

  it('refuses a missing or empty key and unknown options', () => {
    expect(problems({})[0]).toMatch(/^apiKey:/);
    expect(problems({ apiKey: '' })[0]).toMatch(/^apiKey:/);
    expect(problems({ apiKey: 'k', apikey: 'k' })[0]).toContain('apikey');
  });

  it('reads durations', () => {
    expect(zVirusTotalV3Options.parse({ apiKey: 'k', requestTimeout: '2s' }).requestTimeout).toBe(2_000);
    expect(problems({ apiKey: 'k', requestTimeout: 'soon' })[0]).toMatch(/^requestTimeout: invalid duration/);
  });

  it.each(['http://127.0.0.1:8080/api/v3', 'http://127.10.0.3/api/v3/', 'http://localhost:9/api/v3', 'http://[::1]:9/api/v3', 'https://vt.example/api/v3'])('accepts %s', (baseUrl) => {
    expect(problems({ apiKey: 'k', baseUrl })).toEqual([]);
  });

  it('drops trailing slashes so lookup paths join cleanly', () => {
    expect(zVirusTotalV3Options.parse({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9/api/v3//' }).baseUrl).toBe('http://127.0.0.1:9/api/v3');
  });

  it.each(['http://vt.example/api/v3', 'http://128.0.0.1/api/v3', 'http://localhost.evil.example/', 'http://127.0.0.1.evil.example/', 'ftp://127.0.0.1/'])('refuses %s: plain http only for loopback', (baseUrl) => {
    expect(problems({ apiKey: 'k', baseUrl })[0]).toMatch(/^baseUrl: baseUrl must use https/);
  });

  it('refuses a query string, fragment or credentials in baseUrl', () => {
    expect(problems({ apiKey: 'k', baseUrl: 'https://vt.example/api/v3?x=1' })[0]).toContain('query string');
    // URL parses these as an empty query or fragment, but `${baseUrl}/files/<id>` would put the path after them.
    expect(problems({ apiKey: 'k', baseUrl: 'https://vt.example/api/v3?' })[0]).toBe('baseUrl: baseUrl must not carry a query string or fragment, got "?"');
    expect(problems({ apiKey: 'k', baseUrl: 'https://vt.example/api/v3#' })[0]).toBe('baseUrl: baseUrl must not carry a query string or fragment, got "#"');
    expect(problems({ apiKey: 'k', baseUrl: 'https://u:p@vt.example/api/v3' })[0]).toContain('credentials');
  });

  it('accepts plain http only on loopback hosts (core\'s isLoopbackHost)', () => {
    expect(problems({ apiKey: 'k', baseUrl: 'http://127.0.0.1:8080/api/v3' })).toEqual([]);
    expect(problems({ apiKey: 'k', baseUrl: 'http://LOCALHOST/api/v3' })).toEqual([]);
    expect(problems({ apiKey: 'k', baseUrl: 'http://127.0.0.256/api/v3' })[0]).toMatch(/^baseUrl:/);
  });

  it('reports invalid malice rules under their path', () => {
    expect(problems({ apiKey: 'k', maliceRules: [{ verdict: 'malicious', all: [{ field: 'nope', op: '>=', value: 1 }] }] })[0]).toMatch(/^maliceRules\.0\.all\.0\.field: unknown field "nope"/);
  });
});
