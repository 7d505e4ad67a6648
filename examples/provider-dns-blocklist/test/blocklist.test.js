import { describe, expect, it } from 'vitest';
import { silentLogger, zProviderManifest } from '@x/core';
import plugin, { DnsBlocklistProvider, zBlocklistOptions } from '../index.js';

const provider = new DnsBlocklistProvider(zBlocklistOptions.parse({ listName: 'team list', malicious: ['Evil.Example.', '203.0.113.66'], suspicious: ['odd.example'] }), silentLogger);
const context = { signal: new AbortController().signal, logger: silentLogger };

describe('dns-blocklist', () => {
  it('has a manifest core accepts', () => {
    expect(() => zProviderManifest.parse(plugin.manifest)).not.toThrow();
    expect(plugin.manifest.version).toBe('0.1.0');
  });

  it('flags listed domains and their subdomains, IPs and URL hosts', async () => {
    expect(await provider.enrich({ type: 'domain', value: 'evil.example' }, context)).toMatchObject({ kind: 'found', verdict: 'malicious', confidence: 'high' });
    const sub = await provider.enrich({ type: 'domain', value: 'a.b.evil.example' }, context);
    expect(sub).toMatchObject({ kind: 'found', verdict: 'malicious', extracted: { entry: 'evil.example', host: 'a.b.evil.example' } });
    expect(sub.reasons[0].message).toBe('a.b.evil.example is on team list as malicious (via evil.example)');
    expect(await provider.enrich({ type: 'ipv4', value: '203.0.113.66' }, context)).toMatchObject({ verdict: 'malicious' });
    expect(await provider.enrich({ type: 'url', value: 'http://odd.example/x' }, context)).toMatchObject({ verdict: 'suspicious' });
  });

  it('answers not_found, never benign, for anything not listed', async () => {
    expect(await provider.enrich({ type: 'domain', value: 'notevil.example' }, context)).toMatchObject({ kind: 'not_found' });
    expect(await provider.enrich({ type: 'ipv4', value: '203.0.113.6' }, context)).toMatchObject({ kind: 'not_found' });
  });

  it('rejects options of the wrong shape', () => {
    expect(zBlocklistOptions.safeParse({ malicious: 'evil.example' }).success).toBe(false);
    expect(zBlocklistOptions.safeParse({ unknown: true }).success).toBe(false);
  });

  it('honours abort', async () => {
    const aborted = new AbortController();
    aborted.abort();
    await expect(provider.enrich({ type: 'domain', value: 'evil.example' }, { signal: aborted.signal, logger: silentLogger })).rejects.toThrow();
  });
});
