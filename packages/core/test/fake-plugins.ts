import { z } from 'zod';
import { Tokens, definePlugin, secret, inject, injectable, type EnrichContext, type EnrichmentProvider, type Observable, type ProviderManifestInput, type ProviderOutcome, type RateLimiter } from '../src/index.js';

export type Behaviour = (observable: Observable, context: EnrichContext & { limiter: RateLimiter; options: Record<string, unknown> }) => Promise<ProviderOutcome>;

export const found = (verdict: 'malicious' | 'suspicious' | 'benign' | 'unknown' = 'benign'): ProviderOutcome => ({
  kind: 'found',
  verdict,
  confidence: verdict === 'unknown' ? null : 'high',
  reasons: [{ rule: `fake:${verdict}`, message: `fake says ${verdict}` }],
  extracted: { score: 1 },
  entities: [{ type: 'indicator', name: 'fake' }],
  raw: { big: true },
});

export function manifest(overrides: Partial<ProviderManifestInput> = {}): ProviderManifestInput {
  return {
    id: 'fake',
    packageName: '@x/provider-fake',
    version: '1.0.0',
    displayName: 'Fake',
    description: 'An in-process provider for engine tests.',
    coreRange: '^0.1.0',
    observableTypes: ['ipv4', 'domain', 'sha256'],
    optionsSchema: z.object({ apiKey: secret(z.string().default('fake-default-key')), threshold: z.number().default(5) }),
    defaultCacheTtlMs: { ipv4: 60_000, domain: 60_000 },
    defaultNotFoundTtlMs: 10_000,
    defaultRateLimits: [],
    docsUrl: 'https://example.org/fake',
    ...overrides,
  };
}

/** A plugin whose provider runs `behaviour` and counts its calls. */
export function fakePlugin(behaviour: Behaviour, overrides: Partial<ProviderManifestInput> = {}, many?: EnrichmentProvider['enrichMany'], batchSize?: unknown) {
  const calls: Observable[] = [];
  const batches: Observable[][] = [];
  let closed = 0;

  @injectable()
  class FakeProvider implements EnrichmentProvider {
    constructor(
      @inject(Tokens.ProviderOptions) private readonly options: Record<string, unknown>,
      @inject(Tokens.RateLimiter) private readonly limiter: RateLimiter,
    ) {}

    enrich(observable: Observable, context: EnrichContext): Promise<ProviderOutcome> {
      calls.push(observable);
      return behaviour(observable, { ...context, limiter: this.limiter, options: this.options });
    }

    async close(): Promise<void> {
      closed++;
    }
  }
  if (many) {
    (FakeProvider.prototype as EnrichmentProvider).enrichMany = function (observables, context) {
      batches.push([...observables]);
      return many.call(this, observables, context);
    };
  }

  // An instance batch size, as a provider reading it from its options would expose it.
  if (batchSize !== undefined) Object.defineProperty(FakeProvider.prototype, 'batchSize', { value: batchSize });

  const plugin = definePlugin({ manifest: manifest(overrides), register: (registrar) => registrar.provider(FakeProvider) });
  return {
    plugin,
    calls,
    batches,
    get closed() {
      return closed;
    },
  };
}

export const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
