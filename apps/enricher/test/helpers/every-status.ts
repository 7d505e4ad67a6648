import { createEnricher, definePlugin, injectable, silentLogger, UpstreamError, XEnrichError, zProviderInstanceConfig, zProviderManifest, type Clock, type Observable, type ProviderOutcome } from '@x/core';
import { z } from 'zod';
import type { EnrichedItem } from '../../src/output/enriched-item.js';

/**
 * Inputs that reach every record status through the real engine, and the awkward inputs the
 * formats must survive: an IDN domain and URL host, URLs with characters RFC 3986 does not
 * allow (`\ | ^ < > { } " [ ]`, a lone `%`, a second `#`, non-ASCII), quotes and commas, and
 * formula-like text a spreadsheet would run (as invalid inputs, kept in `input`).
 */
export const AWKWARD_INPUTS = [
  'a'.repeat(64), // malicious: ttp entities of every kind
  'suspicious.example',
  'bücher.example', // IDN: benign
  'notfound.example',
  'pending.example',
  'error.example',
  'skipped.example',
  'da39a3ee5e6b4b0d3255bfef95601890afd80709', // sha1: unsupported by the test plugin
  'http://bad.example/a\\b|c^d<e>f{g}h"i[j]k%zz%41?q=<1>&r=|#frag#2',
  "http://münchen.example/it's,\"quoted\"/straße?ä=ö",
  'http://user:p|w@192.0.2.7:8080/x`y',
  '=cmd|\' /C calc\'!A0',
  '+1+1',
  '@SUM(1+1)*cmd|"/C calc"!A0',
  '-2+3',
  '"quoted, with a comma"',
] as const;

/** The outcome the test plugin gives each input, chosen by the observable's value. */
function outcomeFor(observable: Observable): ProviderOutcome {
  const value = observable.value;
  if (value.startsWith('notfound')) return { kind: 'not_found', reasons: [{ rule: 'not_in_dataset', message: 'never seen' }] };
  if (value.startsWith('pending')) return { kind: 'pending', reasons: [{ rule: 'queued', message: 'queued for analysis' }] };
  if (value.startsWith('error')) throw new UpstreamError('http', 'the upstream answered 500', { status: 500 });
  if (value.startsWith('skipped')) throw new XEnrichError('X_ABORTED', 'The lookup was aborted.');
  const malicious = value === 'a'.repeat(64) || value.startsWith('http://bad.');
  const suspicious = value.startsWith('suspicious') || value.includes('münchen') || value.includes('xn--');
  return {
    kind: 'found',
    verdict: malicious ? 'malicious' : suspicious && !value.startsWith('http://user') ? 'suspicious' : 'benign',
    confidence: malicious ? 'high' : 'low',
    reasons: [{ rule: 'test_rule', message: `said so of "${value}", with a comma, a "quote" and =1+1` }],
    extracted: { value },
    entities: malicious
      ? [
          { type: 'ttp', name: 'qakbot', category: 'threat_name' },
          { type: 'ttp', name: 'downloader', category: 'threat_category' },
          { type: 'ttp', name: 'Unsafe', engines: ['AVG', 'Avast'] },
          { type: 'ttp', name: 'Command and Scripting Interpreter', mitreId: 'T1059' },
        ]
      : [],
  };
}

class OracleProvider {
  async enrich(observable: Observable): Promise<ProviderOutcome> {
    return outcomeFor(observable);
  }
}
injectable()(OracleProvider);

const plugin = definePlugin({
  manifest: {
    id: 'oracle',
    packageName: 'x-enrich-test-oracle',
    version: '0.0.0',
    displayName: 'Oracle (test)',
    description: 'Answers each status by the observable it is asked about.',
    coreRange: '^0.1.0',
    observableTypes: ['ipv4', 'ipv6', 'domain', 'url', 'md5', 'sha256'],
    optionsSchema: z.strictObject({}),
    defaultCacheTtlMs: {},
    defaultRateLimits: [],
    docsUrl: 'https://example.invalid/oracle',
  },
  register(registrar) {
    registrar.provider(OracleProvider);
  },
});

/**
 * Runs AWKWARD_INPUTS through the real engine with two instances of the test plugin, on a clock
 * that says `now` (so `fetchedAt` is known), and returns the items as `enrich` streams them.
 */
export async function everyStatusItems(now: Date, inputs: readonly string[] = AWKWARD_INPUTS): Promise<EnrichedItem[]> {
  const manifest = zProviderManifest.parse(plugin.manifest);
  const clock: Clock = { now: () => now.getTime(), sleep: () => Promise.resolve() };
  const enricher = createEnricher({
    providers: ['oracle-a', 'oracle-b'].map((name) => ({
      name,
      plugin,
      manifest,
      options: {},
      config: zProviderInstanceConfig.parse({ use: manifest.packageName, options: {}, rateLimit: false, cache: false, resilience: { retry: false } }),
    })),
    cacheStore: false,
    logger: silentLogger,
    clock,
  });
  try {
    const items: EnrichedItem[] = [];
    for await (const item of enricher.stream(inputs)) items.push(item);
    return items;
  } finally {
    await enricher.close();
  }
}
