import { describe, expect, it } from 'vitest';
import '../contract/reflect-metadata.js';
// A second, older copy of tsyringe (4.8.0, installed under an alias): what a plugin with its own
// node_modules, or a host pinning another 4.x, brings into the process.
import * as tsyringe48 from 'tsyringe-4.8';
import { createEnricher } from '../engine/enricher.js';
import { Tokens, inject, injectable } from '../contract/tokens.js';
import { constructorParameters } from '../di/construct.js';
import { loadTestProvider } from '../testing/prepare.js';
import type { EnrichContext, EnrichmentProvider, ProviderConstructor, ProviderOutcome } from '../contract/provider.js';
import { createContainer, registerProvider } from './register-provider.js';
import { manifest } from '../../test/fake-plugins.js';
import type { Observable } from '../contract/observable-type.js';

const KEY = 'register-test-key-0123456789';

/** A provider that reports which tokens it received, by echoing them in `extracted`. */
function echo(received: Record<string, unknown>): ProviderOutcome {
  return { kind: 'found', verdict: 'benign', confidence: 'high', reasons: [{ rule: 'echo', message: 'echo' }], extracted: received, entities: [] };
}

class StaticInjectProvider implements EnrichmentProvider {
  static inject = [Tokens.ProviderOptions, Tokens.InstanceName];
  constructor(
    private readonly options: Record<string, unknown>,
    private readonly name: string,
  ) {}
  async enrich(): Promise<ProviderOutcome> {
    return echo({ threshold: this.options.threshold, name: this.name });
  }
}

// Decorated by the *other* copy of tsyringe: its @injectable() writes into 4.8.0's private type
// map, which core's copy never reads; only the @inject tokens (reflect metadata) are shared.
class OtherCopyProvider implements EnrichmentProvider {
  constructor(
    private readonly options: Record<string, unknown>,
    private readonly name: string,
  ) {}
  async enrich(): Promise<ProviderOutcome> {
    return echo({ threshold: this.options.threshold, name: this.name });
  }
}
tsyringe48.inject(Tokens.ProviderOptions)(OtherCopyProvider, undefined as never, 0);
tsyringe48.inject(Tokens.InstanceName)(OtherCopyProvider, undefined as never, 1);
tsyringe48.injectable()(OtherCopyProvider);

@injectable()
class DecoratedProvider implements EnrichmentProvider {
  constructor(
    @inject(Tokens.ProviderOptions) private readonly options: Record<string, unknown>,
    @inject(Tokens.InstanceName) private readonly name: string,
  ) {}
  async enrich(): Promise<ProviderOutcome> {
    return echo({ threshold: this.options.threshold, name: this.name });
  }
}

class UndeclaredProvider implements EnrichmentProvider {
  constructor(readonly options: unknown) {}
  async enrich(_observable: Observable, _context: EnrichContext): Promise<ProviderOutcome> {
    return echo({});
  }
}

function pluginWith(implementation: ProviderConstructor) {
  return { manifest: manifest(), register: (registrar: { provider(implementation: ProviderConstructor): void }) => registrar.provider(implementation) };
}

async function lookup(implementation: ProviderConstructor, container?: Parameters<typeof createEnricher>[0]['container']) {
  const loaded = loadTestProvider(pluginWith(implementation), { name: 'echo', options: { apiKey: KEY, threshold: 7 }, config: { cache: false, rateLimit: false } });
  const enricher = createEnricher({ providers: [loaded], cacheStore: false, container });
  try {
    const { records } = await enricher.enrich(['192.0.2.1']);
    return records[0]!;
  } finally {
    await enricher.close();
  }
}

describe('registering providers without one copy of tsyringe', () => {
  const hosts = {
    'no container': undefined,
    "core's createContainer()": createContainer(),
    'a tsyringe 4.8.0 container': tsyringe48.container.createChildContainer(),
  };
  for (const [host, container] of Object.entries(hosts)) {
    for (const [style, implementation] of Object.entries({ 'static inject': StaticInjectProvider, '@inject (core copy)': DecoratedProvider, '@inject (another tsyringe copy)': OtherCopyProvider })) {
      it(`builds a provider declared with ${style} under ${host}`, async () => {
        const record = await lookup(implementation as ProviderConstructor, container as never);
        expect([record.status, record.extracted]).toEqual(['ok', { threshold: 7, name: 'echo' }]);
      });
    }
  }

  it('reads the tokens of both tsyringe descriptor forms (4.8 stores the token, 4.10 an object)', () => {
    expect(constructorParameters(OtherCopyProvider).parameters.map((parameter) => parameter.token)).toEqual([Tokens.ProviderOptions, Tokens.InstanceName]);
    expect(constructorParameters(DecoratedProvider).parameters.map((parameter) => parameter.token)).toEqual([Tokens.ProviderOptions, Tokens.InstanceName]);
  });

  it('names the parameters without a token, and both copies of core when the plugin brought its own', () => {
    const loaded = loadTestProvider(pluginWith(UndeclaredProvider as never), { name: 'echo', options: { apiKey: KEY } });
    const bindings = { logger: undefined, clock: undefined, http: undefined, rateLimiter: undefined };
    expect(() => registerProvider(loaded, undefined, bindings)).toThrow(/UndeclaredProvider has constructor parameter 0 without a token: declare `static inject/);
    const elsewhere = { ...loaded, source: { entry: '/plugins/acme/index.js', ownCore: '/plugins/acme/node_modules/@x/core' } };
    let message = '';
    try {
      registerProvider(elsewhere, undefined, bindings, [KEY]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('uses its own copy of @x/core at /plugins/acme/node_modules/@x/core, not the host\'s at ');
    expect(message).toContain('declare @x/core and zod as peerDependencies of @x/provider-fake');
    expect(message).toMatch(/^Registering plugin "fake" for instance "echo" failed: /);
  });
});
