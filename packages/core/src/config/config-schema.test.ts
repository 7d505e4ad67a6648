import { describe, expect, it } from 'vitest';
import { zEnricherConfig } from './config-schema.js';
import { parseDuration } from '../contract/duration.js';
import { validationIssues } from './validation-issues.js';

describe('durations', () => {
  it('parses every unit', () => {
    expect([parseDuration('500ms'), parseDuration('10s'), parseDuration('1m'), parseDuration('6h'), parseDuration('1d')]).toEqual([500, 10_000, 60_000, 21_600_000, 86_400_000]);
    expect(parseDuration('10 parsecs')).toBeUndefined();
  });
});

describe('config schema', () => {
  it('fills defaults and turns durations into milliseconds', () => {
    const config = zEnricherConfig.parse({
      providers: { vt3: { use: '@x/provider-virustotal-v3', rateLimit: [{ requests: 4, per: '1m' }, { requests: 500, per: '1d' }], cache: { ttl: { ipv4: '1h' }, notFoundTtl: '10m' } } },
    });
    const vt3 = config.providers.vt3!;
    expect(vt3.rateLimit).toEqual([{ requests: 4, perMs: 60_000 }, { requests: 500, perMs: 86_400_000 }]);
    expect(vt3.cache).toEqual({ ttl: { ipv4: 3_600_000 }, notFoundTtl: 600_000 });
    expect(vt3.resilience.timeout).toBe(10_000);
    expect(vt3.resilience.retry).toMatchObject({ maxAttempts: 3 });
    expect(config.cache).toEqual({ store: 'memory', maxEntries: 100_000 });
  });

  it('reports every problem at once, with dot paths inside the union branch that was meant', () => {
    const result = zEnricherConfig.safeParse({ providers: { vt3: { use: '', rateLimit: [{ requests: 0, per: 'soon' }] } }, cache: { store: 'tape' } });
    expect(result.success).toBe(false);
    const input = { providers: { vt3: { use: '', rateLimit: [{ requests: 0, per: 'soon' }] } }, cache: { store: 'tape' } };
    const issues = validationIssues(result.error!, { input });
    expect(issues.map((issue) => issue.path)).toEqual(['providers.vt3.use', 'providers.vt3.rateLimit.0.requests', 'providers.vt3.rateLimit.0.per', 'cache.store']);
    expect(issues.find((issue) => issue.path === 'cache.store')!.message).toBe('unknown value "tape"; expected one of "memory", "file", "redis"');
    expect(issues.find((issue) => issue.path.endsWith('.per'))!.message).toContain('invalid duration "soon"');
  });

  it('says what a union expected when no branch fits the value at all', () => {
    const input = { providers: { vt3: { use: 'x', rateLimit: 5, cache: 'yes' } } };
    const issues = validationIssues(zEnricherConfig.safeParse(input).error!, { input });
    expect(issues).toEqual([
      { path: 'providers.vt3.rateLimit', message: 'expected false or array, received number' },
      { path: 'providers.vt3.cache', message: 'expected false or object, received string' },
    ]);
  });

  it('names unknown keys and missing fields', () => {
    const input = { providers: { vt3: { usee: 'x' } }, concurrency: 'many' };
    const issues = validationIssues(zEnricherConfig.safeParse(input).error!, { input, prefix: 'file' });
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'file.providers.vt3.use', message: 'required (expected string)' },
        { path: 'file.providers.vt3.usee', message: 'unknown key (not part of the schema; check the spelling)' },
        expect.objectContaining({ path: 'file.concurrency' }),
      ]),
    );
  });
});
