// The provider plugin the fleet workers load for the stand-in upstream: one GET per lookup
// through core's HttpClient, so every request waits for the (shared) rate-limit budget.
import { definePlugin, inject, injectable, Tokens } from '@x/core';
import { z } from 'zod';

const zOptions = z.strictObject({
  baseUrl: z.string().describe('Upstream base URL.'),
  apiKey: z.string().describe('API key (the quota belongs to it).'),
});

class QuotaProvider {
  constructor(options, http) {
    this.options = options;
    this.http = http;
  }

  async enrich(observable, context) {
    const response = await this.http.get(`${this.options.baseUrl}/lookup/${encodeURIComponent(observable.value)}`, {
      headers: { 'x-apikey': this.options.apiKey },
      signal: context.signal,
    });
    return {
      kind: 'found',
      verdict: response.data.verdict,
      confidence: 'medium',
      reasons: [{ rule: 'upstream', message: `upstream says ${response.data.verdict}` }],
      extracted: {},
      entities: [],
    };
  }
}
inject(Tokens.ProviderOptions)(QuotaProvider, undefined, 0);
inject(Tokens.HttpClient)(QuotaProvider, undefined, 1);
injectable()(QuotaProvider);

export default definePlugin({
  manifest: {
    id: 'quota-upstream',
    packageName: '@x/store-redis-bench-quota-provider',
    version: '0.0.0',
    displayName: 'Quota upstream (bench)',
    description: 'Looks observables up in the fleet bench stand-in upstream.',
    coreRange: '>=0.1.0',
    observableTypes: ['ipv4', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256'],
    optionsSchema: zOptions,
    defaultCacheTtlMs: {},
    defaultRateLimits: [],
    docsUrl: 'https://example.invalid/quota-upstream',
  },
  register(registrar) {
    registrar.provider(QuotaProvider);
  },
});
