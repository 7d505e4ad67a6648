import { isSecretSchema } from '@x/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zVirusTotalV2Options } from './options.js';

const issuesOf = (input: unknown) => {
  const parsed = zVirusTotalV2Options.safeParse(input);
  expect(parsed.success).toBe(false);
  return parsed.error!.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
};

describe('options', () => {
  it('fills the documented defaults', () => {
    expect(zVirusTotalV2Options.parse({ apiKey: 'k' })).toEqual({
      apiUrl: 'https://www.virustotal.com/vtapi/v2/',
      apiKey: 'k',
      lowConfidenceInfectionRateMax: 33,
      highConfidenceInfectionRateMin: 66,
      batchSize: 4,
      requestTimeout: 20_000,
      hostVerdict: 'worst-url',
      hostMinUrlInfectionRate: 0,
    });
  });

  it('takes the host verdict options and refuses others', () => {
    expect(zVirusTotalV2Options.parse({ apiKey: 'k', hostVerdict: 'unrated', hostMinUrlInfectionRate: 20 })).toMatchObject({ hostVerdict: 'unrated', hostMinUrlInfectionRate: 20 });
    expect(issuesOf({ apiKey: 'k', hostVerdict: 'majority' }).map((issue) => issue.path)).toContain('hostVerdict');
    expect(issuesOf({ apiKey: 'k', hostMinUrlInfectionRate: 100 }).map((issue) => issue.path)).toContain('hostMinUrlInfectionRate');
  });

  it('requires an API key and marks it secret', () => {
    expect(issuesOf({}).map((issue) => issue.path)).toContain('apiKey');
    expect(issuesOf({ apiKey: '' }).map((issue) => issue.path)).toContain('apiKey');
    expect(isSecretSchema(zVirusTotalV2Options.shape.apiKey)).toBe(true);
  });

  it('fails when low >= high, naming both values at both fields', () => {
    for (const [low, high] of [
      [66, 66],
      [70, 40],
    ] as const) {
      const issues = issuesOf({ apiKey: 'k', lowConfidenceInfectionRateMax: low, highConfidenceInfectionRateMin: high });
      expect(issues.map((issue) => issue.path).sort()).toEqual(['highConfidenceInfectionRateMin', 'lowConfidenceInfectionRateMax']);
      for (const issue of issues) {
        expect(issue.message).toContain(`lowConfidenceInfectionRateMax (${low})`);
        expect(issue.message).toContain(`highConfidenceInfectionRateMin (${high})`);
      }
    }
  });

  it('applies the rule to defaults too (low 70 against the default high 66)', () => {
    expect(issuesOf({ apiKey: 'k', lowConfidenceInfectionRateMax: 70 })[0]!.message).toContain('(66)');
  });

  it('accepts non-integer thresholds within 0..99 and rejects values outside', () => {
    expect(zVirusTotalV2Options.parse({ apiKey: 'k', lowConfidenceInfectionRateMax: 12.5, highConfidenceInfectionRateMin: 99 }).lowConfidenceInfectionRateMax).toBe(12.5);
    expect(issuesOf({ apiKey: 'k', highConfidenceInfectionRateMin: 100 })[0]!.path).toBe('highConfidenceInfectionRateMin');
    expect(issuesOf({ apiKey: 'k', lowConfidenceInfectionRateMax: -1 })[0]!.path).toBe('lowConfidenceInfectionRateMax');
  });

  it('accepts batch sizes 1..25 (25 for private keys)', () => {
    expect(zVirusTotalV2Options.parse({ apiKey: 'k', batchSize: 25 }).batchSize).toBe(25);
    expect(issuesOf({ apiKey: 'k', batchSize: 26 })[0]!.path).toBe('batchSize');
    expect(issuesOf({ apiKey: 'k', batchSize: 0 })[0]!.path).toBe('batchSize');
  });

  it('takes https anywhere, plain http only on loopback, and adds the trailing slash', () => {
    expect(zVirusTotalV2Options.parse({ apiKey: 'k', apiUrl: 'http://127.0.0.1:8080/vtapi/v2' }).apiUrl).toBe('http://127.0.0.1:8080/vtapi/v2/');
    expect(zVirusTotalV2Options.parse({ apiKey: 'k', apiUrl: 'http://localhost:1/v2/' }).apiUrl).toBe('http://localhost:1/v2/');
    expect(zVirusTotalV2Options.parse({ apiKey: 'k', apiUrl: 'http://[::1]:1/v2/' }).apiUrl).toBe('http://[::1]:1/v2/');
    expect(issuesOf({ apiKey: 'k', apiUrl: 'http://vt.example.com/vtapi/v2/' })[0]!.message).toMatch(/https/);
    expect(issuesOf({ apiKey: 'k', apiUrl: 'not a url' })[0]!.path).toBe('apiUrl');
  });

  it('refuses a query string or fragment in apiUrl without echoing it (it may hold a key)', () => {
    for (const apiUrl of [
      'https://www.virustotal.com/vtapi/v2/?apikey=SECRET-KEY',
      'https://www.virustotal.com/vtapi/v2?x=1',
      'https://www.virustotal.com/vtapi/v2/#SECRET-KEY',
      // URL parses a bare `?` or `#` as an empty query or fragment; the text still has one.
      'https://www.virustotal.com/vtapi/v2?',
      'https://www.virustotal.com/vtapi/v2/#',
    ]) {
      const issues = issuesOf({ apiKey: 'k', apiUrl });
      expect(issues, apiUrl).toEqual([{ path: 'apiUrl', message: expect.stringContaining('must not carry a query string or fragment') }]);
      expect(issues[0]!.message).not.toContain('SECRET-KEY');
    }
  });

  it('refuses credentials in apiUrl', () => {
    for (const apiUrl of ['https://user:pass@www.virustotal.com/vtapi/v2/', 'https://user@www.virustotal.com/vtapi/v2/']) {
      const issues = issuesOf({ apiKey: 'k', apiUrl });
      expect(issues, apiUrl).toEqual([{ path: 'apiUrl', message: 'apiUrl must not carry credentials; the API key goes in apiKey' }]);
    }
  });

  it('reports every apiUrl problem at once', () => {
    const messages = issuesOf({ apiKey: 'k', apiUrl: 'http://u:p@vt.example.com/v2?x=1' }).map((issue) => issue.message);
    expect(messages).toHaveLength(3);
    expect(messages.join('\n')).toMatch(/query string[\s\S]*credentials[\s\S]*https/);
  });

  it('parses the request timeout as a duration', () => {
    expect(zVirusTotalV2Options.parse({ apiKey: 'k', requestTimeout: '5s' }).requestTimeout).toBe(5_000);
  });

  it('rejects unknown options (typos)', () => {
    expect(issuesOf({ apiKey: 'k', lowConfidenceInfectionRate: 10 })[0]!.message).toMatch(/lowConfidenceInfectionRate/);
  });

  it('describes every option, so docs and JSON Schema come from the schema', () => {
    const schema = z.toJSONSchema(zVirusTotalV2Options, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { description?: string }> };
    for (const [name, property] of Object.entries(schema.properties)) expect(property.description, name).toBeTruthy();
    expect(Object.keys(schema.properties).sort()).toEqual(['apiKey', 'apiUrl', 'batchSize', 'highConfidenceInfectionRateMin', 'hostMinUrlInfectionRate', 'hostVerdict', 'lowConfidenceInfectionRateMax', 'requestTimeout']);
  });
});
