import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createEnricherFromConfig, zEnricherConfig } from '../index.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];
afterEach(async () => Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true }))));

describe('createEnricherFromConfig', () => {
  it('loads the instances and persists outcomes in the file cache across runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'x-enrich-from-config-'));
    dirs.push(dir);
    const config = zEnricherConfig.parse({ providers: { echo: { use: './test/fixtures/echo-plugin.js' } }, cache: { store: 'file', dir } });
    const first = await createEnricherFromConfig(config, { importFrom: packageRoot });
    const { records } = await first.enrich(['bad.example.org']);
    expect(records[0]).toMatchObject({ provider: { name: 'echo', plugin: 'echo' }, status: 'ok', verdict: 'malicious', cache: { hit: false } });
    await first.close();
    const second = await createEnricherFromConfig(config, { importFrom: packageRoot });
    expect((await second.enrich(['bad.example.org'])).records[0]?.cache.hit).toBe(true);
  });

  it('requires the caller to pass shared stores for redis', async () => {
    const config = zEnricherConfig.parse({ providers: {}, cache: { store: 'redis' } });
    await expect(createEnricherFromConfig(config)).rejects.toThrow(/@x\/store-redis/);
  });
});

describe('quota groups', () => {
  it('two instances naming one group spend one budget, kept by a file store across runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'x-enrich-quota-group-'));
    dirs.push(dir);
    const config = zEnricherConfig.parse({
      quotas: { 'one-key': [{ requests: 3, per: '1h' }] },
      providers: { a: { use: './test/fixtures/metered-plugin.js', quota: 'one-key' }, b: { use: './test/fixtures/metered-plugin.js', quota: 'one-key' } },
      cache: false,
      rateLimitStore: { store: 'file', dir },
    });
    const first = await createEnricherFromConfig(config, { importFrom: packageRoot });
    const before = await first.providers();
    expect(before.map((p) => p.rateLimit[0]?.remaining)).toEqual([3, 3]);
    await first.enrich(['x1.example.org'], { providers: ['a'] });
    await first.enrich(['x2.example.org'], { providers: ['b'] });
    // One budget: each instance sees both charges.
    expect((await first.providers()).map((p) => p.rateLimit[0]?.remaining)).toEqual([1, 1]);
    await first.close();
    // A second process (run) opening the same file store sees the same budget.
    const second = await createEnricherFromConfig(config, { importFrom: packageRoot });
    expect((await second.providers()).map((p) => p.rateLimit[0]?.remaining)).toEqual([1, 1]);
    await second.close();
  });

  it('refuses an unknown group, a group with rateLimit beside it, and a limit that can never be met, all at load', async () => {
    const load = (input: unknown) => createEnricherFromConfig(zEnricherConfig.parse(input), { importFrom: packageRoot }).then(() => undefined, (error: Error) => error);
    const unknown = await load({ providers: { a: { use: './test/fixtures/echo-plugin.js', quota: 'nope' } } });
    expect(unknown?.message).toMatch(/providers\.a\.quota.*quota group "nope" is not defined/s);
    const both = await load({ quotas: { k: [{ requests: 4, per: '1m' }] }, providers: { a: { use: './test/fixtures/echo-plugin.js', quota: 'k', rateLimit: [{ requests: 4, per: '1m' }] } } });
    expect(both?.message).toMatch(/set either rateLimit or quota/);
    const never = await load({ providers: { a: { use: './test/fixtures/echo-plugin.js', rateLimit: [{ requests: 4, per: 0 }] } } });
    expect(never?.message).toMatch(/can never be met/);
    expect(() => zEnricherConfig.parse({ providers: { a: { use: 'x', rateLimit: [{ requests: 0, per: '1m' }] } } })).toThrow();
  });
});
