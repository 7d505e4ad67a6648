import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zProviderManifest } from '../contract/manifest.js';
import type { LoadedProvider } from '../plugin/loaded-provider.js';
import { collectSecrets, redactConfig, secretPaths } from './redact.js';
import { parseConfig } from './load-config.js';
import { secret } from '../contract/secret.js';

const optionsSchema = z.object({
  apiKey: secret(z.string().min(1)).describe('API key.'),
  backup: z.object({ credential: secret(z.string()).optional() }).default({}),
  extraKeys: z.array(secret(z.string())).default([]),
  threshold: z.number().default(3),
});

const manifest = zProviderManifest.parse({
  id: 'demo',
  packageName: '@x/provider-demo',
  version: '1.0.0',
  displayName: 'Demo',
  description: 'Demo provider',
  coreRange: '*',
  observableTypes: ['ipv4'],
  optionsSchema,
  defaultCacheTtlMs: {},
  defaultRateLimits: [],
  docsUrl: 'https://example.org',
});

const config = parseConfig(
  {
    providers: {
      demo: { use: './demo', options: { apiKey: 'KEY-AAA-111', backup: { credential: 'KEY-BBB-222' }, extraKeys: ['KEY-CCC-333'], threshold: 5 } },
      unknown: { use: './other', options: { token: 'KEY-DDD-444', nested: { password: 'KEY-EEE-555' }, label: 'visible' } },
    },
    cache: { store: 'redis', url: 'redis://user:KEY-FFF-666@localhost:6379' },
  },
  { env: {} },
);

const loaded: LoadedProvider[] = [
  { name: 'demo', plugin: { manifest, register() {} }, manifest, options: optionsSchema.parse(config.providers.demo!.options), config: config.providers.demo! },
];

describe('secretPaths', () => {
  it('finds secret-marked fields through objects, arrays, optional and default wrappers', () => {
    expect(secretPaths(optionsSchema)).toEqual([['apiKey'], ['backup', 'credential'], ['extraKeys', '*']]);
  });
});

describe('redactConfig', () => {
  it('replaces every secret with [REDACTED] and keeps the rest', () => {
    const printed = JSON.stringify(redactConfig(config, loaded));
    for (const key of ['KEY-AAA-111', 'KEY-BBB-222', 'KEY-CCC-333', 'KEY-DDD-444', 'KEY-EEE-555', 'KEY-FFF-666']) expect(printed).not.toContain(key);
    const redacted = redactConfig(config, loaded);
    expect(redacted.providers.demo!.options).toEqual({ apiKey: '[REDACTED]', backup: { credential: '[REDACTED]' }, extraKeys: ['[REDACTED]'], threshold: 5 });
    expect(redacted.providers.unknown!.options).toMatchObject({ label: 'visible' });
    expect((redacted.cache as { url: string }).url).toBe('redis://user:[REDACTED]@localhost:6379'); // readable, not %5BREDACTED%5D
    expect(config.providers.demo!.options.apiKey).toBe('KEY-AAA-111'); // the input is not modified
  });
});

describe('collectSecrets', () => {
  it('returns the secret values of loaded providers', () => {
    expect(collectSecrets(loaded).sort()).toEqual(['KEY-AAA-111', 'KEY-BBB-222', 'KEY-CCC-333']);
  });
});
