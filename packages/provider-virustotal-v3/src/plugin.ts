import { createRequire } from 'node:module';
import { definePlugin, type ProviderManifestInput } from '@x/core';
import { zVirusTotalV3Options } from './options.js';
import { VirusTotalV3Provider } from './provider.js';

// Read at run time (from src/ in tests, dist/ when published: both one level below the
// package root) so the manifest version can never drift from package.json.
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Where this provider is documented. */
export const DOCS_URL = 'https://github.com/x-enrich/x-enrich/blob/main/docs/providers/virustotal-v3.md';

/**
 * The manifest of `@x/provider-virustotal-v3`. Cache TTLs follow the Calseta page (IP 1h,
 * domain 6h, hashes 24h; URLs 30m, as URL verdicts move fastest); rate limits are the public
 * key's 4 requests a minute and 500 a day (override `rateLimit` in config for premium keys).
 */
export const manifest = {
  id: 'virustotal-v3',
  packageName: '@x/provider-virustotal-v3',
  version,
  displayName: 'VirusTotal API v3',
  description: 'Looks up IPv4/IPv6 addresses, domains, URLs and file hashes with the VirusTotal API v3; verdicts from configurable malice rules, indicator and TTP entities.',
  coreRange: '^0.1.0',
  observableTypes: ['ipv4', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256'],
  optionsSchema: zVirusTotalV3Options,
  defaultCacheTtlMs: { ipv4: HOUR, ipv6: HOUR, domain: 6 * HOUR, url: 30 * MINUTE, md5: DAY, sha1: DAY, sha256: DAY },
  defaultNotFoundTtlMs: 30 * MINUTE,
  defaultRateLimits: [
    { requests: 4, perMs: MINUTE },
    { requests: 500, perMs: DAY },
  ],
  docsUrl: DOCS_URL,
  lifecycle: { status: 'active' },
} satisfies ProviderManifestInput;

/** The plugin: the manifest plus a `register` step that binds the implementation. */
export const plugin = definePlugin({
  manifest,
  register(registrar) {
    registrar.provider(VirusTotalV3Provider);
  },
});

export default plugin;
