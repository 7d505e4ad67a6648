import { createRequire } from 'node:module';
import { definePlugin, type ProviderManifestInput } from '@x/core';
import { zVirusTotalV2Options, PRIVATE_BATCH_SIZE_MAX } from './options.js';
import { VirusTotalV2Provider } from './provider.js';

// Read at run time (from src/ in tests, dist/ when published: both one level below the
// package root) so the manifest version can never drift from package.json.
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;

/** Where this provider is documented; the lifecycle message points here for the migration table. */
export const DOCS_URL = 'https://github.com/x-enrich/x-enrich/blob/main/docs/providers/virustotal-v2.md';

/**
 * The manifest of `@x/provider-virustotal-v2`. End of life: VirusTotal retired API v2
 * (end of life 2021-08-11, end of support 2022-02-11); core warns when it is loaded and
 * stamps the lifecycle on every record.
 */
export const manifest = {
  id: 'virustotal-v2',
  packageName: '@x/provider-virustotal-v2',
  version,
  displayName: 'VirusTotal API v2 (End of Life)',
  description: 'Looks up domains, IPv4 addresses, URLs and file hashes with the VirusTotal API v2; infection-rate confidence, indicator and TTP entities.',
  coreRange: '^0.1.0',
  // ip-address/report is IPv4 only: IPv6 needs @x/provider-virustotal-v3.
  observableTypes: ['domain', 'ipv4', 'url', 'md5', 'sha1', 'sha256'],
  optionsSchema: zVirusTotalV2Options,
  defaultCacheTtlMs: { ipv4: HOUR, domain: 6 * HOUR, url: 6 * HOUR, md5: DAY, sha1: DAY, sha256: DAY },
  defaultNotFoundTtlMs: 30 * MINUTE,
  // The public API: 4 requests per minute, 500 per day. A batched report request counts as one.
  defaultRateLimits: [
    { requests: 4, perMs: MINUTE },
    { requests: 500, perMs: DAY },
  ],
  // With 4 requests a minute, waiting a little to fill a batch is far cheaper than a request.
  // Hashes share file/report and URLs share url/report; domains and IPs have no batch endpoint,
  // so the engine sends them through enrich() and their failures never touch a batch.
  // The API's most resources per request; each instance batches its own `batchSize` (4 on the
  // public API, the default), which the provider exposes to the engine.
  batch: { maxSize: PRIVATE_BATCH_SIZE_MAX, maxWaitMs: 50, groups: [['md5', 'sha1', 'sha256'], ['url']] },
  docsUrl: DOCS_URL,
  lifecycle: {
    status: 'end-of-life',
    endOfLife: '2021-08-11',
    endOfSupport: '2022-02-11',
    replacedBy: '@x/provider-virustotal-v3',
    // Core's warning already states the dates and the replacement; the message says how to move.
    message: 'VirusTotal retired API v2. To migrate, change `use` to @x/provider-virustotal-v3, keep apiKey, and replace the infection-rate thresholds with v3 malice rules (see the migration table).',
    url: DOCS_URL,
  },
} satisfies ProviderManifestInput;

/** The plugin: the manifest plus a `register` step that binds the implementation. */
export const plugin = definePlugin({
  manifest,
  register(registrar) {
    registrar.provider(VirusTotalV2Provider);
  },
});

export default plugin;
