import { describe, expect, it } from 'vitest';
import { zEnricherConfig } from './config-schema.js';
import { parseDuration } from './duration.js';

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

  it('reports every problem at once, with paths', () => {
    const result = zEnricherConfig.safeParse({ providers: { vt3: { use: '', rateLimit: [{ requests: 0, per: 'soon' }] } }, cache: { store: 'tape' } });
    expect(result.success).toBe(false);
    // Union branches (`false | [...]`) surface at the union's path here; `validationIssues`
    // (config loading) descends into the branch that was meant.
    const paths = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['providers.vt3.use', 'providers.vt3.rateLimit', 'cache']));
  });
});
