import { createRequire } from 'node:module';
import { OBSERVABLE_TYPES, definePlugin, type ObservableType, type ProviderManifestInput } from '@x/core';
import { zHttpProviderOptions, type HttpProviderOptions } from './options.js';
import { HttpProvider } from './provider.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export const DOCS_URL = 'https://github.com/x-enrich/x-enrich/blob/main/docs/providers/http.md';
const HOUR = 3_600_000;

/**
 * The manifest of `@x/provider-http`: every observable type (an instance handles the types its
 * `requests` name, see `instanceManifest`), no rate limit of its own (a recipe or the options
 * give the source's), a 1 h cache.
 */
export const manifest = {
  id: 'http',
  packageName: '@x/provider-http',
  version,
  displayName: 'HTTP API (declarative)',
  description: 'Any HTTP API described in the config file: requests from templates, fields by JMESPath, ordered malice rules, entities. Ships recipes for AbuseIPDB, GreyNoise, URLhaus, ThreatFox, AlienVault OTX and Shodan InternetDB.',
  coreRange: '^0.1.0',
  observableTypes: [...OBSERVABLE_TYPES],
  optionsSchema: zHttpProviderOptions,
  defaultCacheTtlMs: Object.fromEntries(OBSERVABLE_TYPES.map((type) => [type, HOUR])),
  defaultNotFoundTtlMs: 600_000,
  defaultRateLimits: [],
  docsUrl: DOCS_URL,
  lifecycle: { status: 'active' },
} satisfies ProviderManifestInput;

export const plugin = definePlugin({
  manifest,
  register(registrar) {
    registrar.provider(HttpProvider);
  },
  /** What this instance's options say about it: its types, name, TTLs, the source's quota and lifecycle. */
  instanceManifest(raw) {
    const options = raw as HttpProviderOptions;
    return {
      displayName: options.name,
      observableTypes: Object.keys(options.requests) as ObservableType[],
      ...(options.cacheTtl ? { defaultCacheTtlMs: { ...manifest.defaultCacheTtlMs, ...options.cacheTtl } } : {}),
      ...(options.notFoundTtl !== undefined ? { defaultNotFoundTtlMs: options.notFoundTtl } : {}),
      ...(options.rateLimit ? { defaultRateLimits: options.rateLimit.map((window) => ({ requests: window.requests, perMs: window.per })) } : {}),
      ...(options.lifecycle ? { lifecycle: options.lifecycle } : {}),
      ...(options.docsUrl ? { docsUrl: options.docsUrl } : {}),
    };
  },
});

export default plugin;
