// @ts-check
/**
 * An x-enrich provider plugin written in plain JavaScript, so it loads by path
 * (`use: ./provider-dns-blocklist`) with no build step. It flags domains, IP addresses and URL
 * hosts found on a static blocklist given in its options. It never touches the network.
 *
 * What every plugin shows here: a manifest (data, validated by core when loaded), an options
 * schema whose fields are described and defaulted, a provider class whose constructor
 * parameters are injected by core's tokens, and outcomes that keep "not listed" (not_found)
 * apart from "clean" (a blocklist cannot say that something is benign).
 */
import { readFileSync } from 'node:fs';
import { definePlugin, Tokens } from '@x/core';
import { z } from 'zod';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** The plugin's options (`providers.<name>.options` in the config). */
export const zBlocklistOptions = z
  .strictObject({
    listName: z.string().min(1).default('local blocklist').describe('Name of the list, shown in reasons.'),
    malicious: z
      .array(z.string().min(1))
      .default([])
      .describe('Domains or IP addresses to flag as malicious. A listed domain also matches its subdomains.'),
    suspicious: z.array(z.string().min(1)).default([]).describe('Domains or IP addresses to flag as suspicious.'),
  })
  .describe('A static blocklist.');

/** @typedef {z.output<typeof zBlocklistOptions>} BlocklistOptions */

/** @param {string} value */
const normalize = (value) => value.trim().toLowerCase().replace(/\.$/, '');

/** The host a lookup is about: the observable itself, or a URL's host name. */
/** @param {import('@x/core').Observable} observable */
function hostOf(observable) {
  if (observable.type !== 'url') return normalize(observable.value);
  try {
    return normalize(new URL(observable.value).hostname.replace(/^\[|\]$/g, ''));
  } catch {
    return normalize(observable.value);
  }
}

/** @param {string} host @param {Set<string>} entries */
function findEntry(host, entries) {
  if (entries.has(host)) return host;
  // Walk up the labels so `a.evil.example` matches `evil.example` (not for IP addresses).
  if (/^[\d.]+$/.test(host) || host.includes(':')) return undefined;
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
    const parent = host.slice(dot + 1);
    if (entries.has(parent)) return parent;
  }
  return undefined;
}

/** @implements {import('@x/core').EnrichmentProvider} */
export class DnsBlocklistProvider {
  // The constructor's tokens, in parameter order. Core constructs the class from this list, so
  // plain JavaScript needs no decorators, and it works whichever copy of @x/core is installed.
  static inject = [Tokens.ProviderOptions, Tokens.Logger];

  /**
   * @param {BlocklistOptions} options already validated by `zBlocklistOptions` (defaults applied)
   * @param {import('@x/core').Logger} logger bound to this instance, with secrets redacted
   */
  constructor(options, logger) {
    this.listName = options.listName;
    this.malicious = new Set(options.malicious.map(normalize));
    this.suspicious = new Set(options.suspicious.map(normalize));
    logger.debug({ entries: this.malicious.size + this.suspicious.size }, 'blocklist loaded');
  }

  /**
   * @param {import('@x/core').Observable} observable
   * @param {import('@x/core').EnrichContext} context
   * @returns {Promise<import('@x/core').ProviderOutcome>}
   */
  async enrich(observable, context) {
    context.signal.throwIfAborted();
    const host = hostOf(observable);
    for (const [verdict, entries] of /** @type {const} */ ([
      ['malicious', this.malicious],
      ['suspicious', this.suspicious],
    ])) {
      const entry = findEntry(host, entries);
      if (entry === undefined) continue;
      return {
        kind: 'found',
        verdict,
        confidence: 'high',
        reasons: [
          {
            rule: `listed:${verdict}`,
            message: `${host} is on ${this.listName} as ${verdict}${entry === host ? '' : ` (via ${entry})`}`,
            values: { host, entry, list: this.listName },
          },
        ],
        extracted: { list: this.listName, entry, host },
        entities: [{ type: 'indicator', name: `Indicator of ${observable.type}: ${observable.value}`, verdict }],
      };
    }
    // Absence from a blocklist says nothing about being clean: not_found, not benign.
    return { kind: 'not_found', reasons: [{ rule: 'not_listed', message: `${host} is not on ${this.listName}` }] };
  }
}

/** The plugin definition core's loader imports (default export). */
export default definePlugin({
  manifest: {
    id: 'dns-blocklist',
    packageName: 'x-enrich-provider-dns-blocklist',
    version,
    displayName: 'DNS blocklist (example)',
    description: 'Flags domains, IP addresses and URL hosts found on a static blocklist. An example of a provider that lives outside the x-enrich packages.',
    coreRange: '^0.1.0',
    observableTypes: ['domain', 'ipv4', 'ipv6', 'url'],
    optionsSchema: zBlocklistOptions,
    // Answers come from memory: caching them would only hide list edits for a while.
    defaultCacheTtlMs: { domain: 0, ipv4: 0, ipv6: 0, url: 0 },
    defaultNotFoundTtlMs: 0,
    defaultRateLimits: [],
    docsUrl: 'https://github.com/x-enrich/x-enrich/blob/main/examples/provider-dns-blocklist/README.md',
    lifecycle: { status: 'active' },
  },
  register(registrar) {
    registrar.provider(DnsBlocklistProvider);
  },
});
