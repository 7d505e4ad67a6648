import { readFileSync } from 'node:fs';
import { OBSERVABLE_TYPES, zProviderManifest } from '@x/core';
import { describe, expect, it } from 'vitest';
import plugin, { manifest } from './plugin.js';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string; keywords: string[] };

describe('manifest', () => {
  it('is a valid manifest whose name and version come from package.json', () => {
    const parsed = zProviderManifest.parse(manifest);
    expect(parsed).toMatchObject({ id: 'virustotal-v3', packageName: packageJson.name, version: packageJson.version, coreRange: '^0.1.0', lifecycle: { status: 'active' } });
    expect(packageJson.keywords).toContain('x-enrich-provider');
  });

  it('handles every observable type with the page TTLs and the public rate limits', () => {
    expect([...manifest.observableTypes].sort()).toEqual([...OBSERVABLE_TYPES].sort());
    const hour = 3_600_000;
    expect(manifest.defaultCacheTtlMs).toEqual({ ipv4: hour, ipv6: hour, domain: 6 * hour, url: hour / 2, md5: 24 * hour, sha1: 24 * hour, sha256: 24 * hour });
    expect(manifest.defaultRateLimits).toEqual([
      { requests: 4, perMs: 60_000 },
      { requests: 500, perMs: 86_400_000 },
    ]);
  });

  it('is the default export', () => {
    expect(plugin.manifest).toBe(manifest);
  });
});
