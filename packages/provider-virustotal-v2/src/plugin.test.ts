import { zProviderManifest } from '@x/core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';

describe('plugin manifest', () => {
  const manifest = zProviderManifest.parse(plugin.manifest);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string; keywords: string[] };

  it('is a valid manifest whose identity matches package.json', () => {
    expect(manifest).toMatchObject({ id: 'virustotal-v2', packageName: pkg.name, version: pkg.version });
    expect(pkg.keywords).toContain('x-enrich-provider');
  });

  it('declares end of life, its dates, replacement and migration guide', () => {
    expect(manifest.lifecycle).toMatchObject({ status: 'end-of-life', endOfLife: '2021-08-11', endOfSupport: '2022-02-11', replacedBy: '@x/provider-virustotal-v3' });
    expect(manifest.lifecycle.message).toMatch(/@x\/provider-virustotal-v3/);
    expect(manifest.lifecycle.url).toMatch(/docs\/providers\/virustotal-v2\.md$/);
  });

  it('handles IPv4 but not IPv6, with public-API rate limits and batches of up to 25 (4 by default, per instance)', () => {
    expect(manifest.observableTypes).toEqual(['domain', 'ipv4', 'url', 'md5', 'sha1', 'sha256']);
    expect(manifest.defaultRateLimits).toEqual([
      { requests: 4, perMs: 60_000 },
      { requests: 500, perMs: 86_400_000 },
    ]);
    expect(manifest.batch?.maxSize).toBe(25);
    for (const type of manifest.observableTypes) expect(manifest.defaultCacheTtlMs[type]).toBeGreaterThan(0);
  });
});
