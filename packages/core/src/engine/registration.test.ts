import '../di/reflect-metadata.js';
import { container as rootContainer, inject, injectable } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSecretScrubber } from '../config/secret.js';
import { systemClock, Tokens } from '../di/tokens.js';
import type { ProviderManifestInput } from '../plugin/manifest.js';
import type { EnrichmentProvider, ProviderOutcome, ProviderPlugin } from '../plugin/provider.js';
import { captureLogger } from '../testing/capture.js';
import { loadTestProvider } from '../testing/prepare.js';
import type { RateLimiter } from '../stores/rate-limit-store.js';
import { registerProvider, type InstanceServices } from './registration.js';

const SECRET = 'sk-live-registration-secret';
const FOUND: ProviderOutcome = { kind: 'not_found' };
const manifest: ProviderManifestInput = {
  id: 'reg',
  packageName: '@x/provider-reg',
  version: '1.0.0',
  displayName: 'Reg',
  description: 'Registration tests.',
  coreRange: '*',
  observableTypes: ['ipv4'],
  optionsSchema: z.object({ region: z.string().default('eu') }),
  defaultCacheTtlMs: { ipv4: 60_000 },
  defaultRateLimits: [],
  docsUrl: 'https://example.org',
};
const HostToken = Symbol('host.thing');

function services(overrides: Partial<InstanceServices> = {}): InstanceServices {
  const limiter = { acquire: async () => ({ settle: async () => undefined, refused: async () => undefined }), remaining: async () => [], waitedMs: 0 } as RateLimiter;
  return { parent: undefined, logger: captureLogger(), clock: systemClock, http: { fake: 'http' }, limiter, scrub: createSecretScrubber([SECRET]), ...overrides };
}
const load = (register: ProviderPlugin['register']) => loadTestProvider({ manifest, register }, { name: 'reg-eu', options: { region: 'us' } });

describe('registerProvider', () => {
  it("resolves the plugin's provider in a child of the host container, with core's tokens for this instance", () => {
    @injectable()
    class Provider implements EnrichmentProvider {
      constructor(
        @inject(Tokens.ProviderOptions) readonly options: { region: string },
        @inject(Tokens.InstanceName) readonly name: string,
        @inject(Tokens.HttpClient) readonly http: unknown,
        @inject(Tokens.RateLimiter) readonly limiter: RateLimiter,
        @inject(HostToken) readonly host: string,
      ) {}
      enrich = async () => FOUND;
    }
    const host = rootContainer.createChildContainer();
    host.register(HostToken, { useValue: 'from the host' });
    const given = services({ parent: host });
    const provider = registerProvider(load((registrar) => registrar.provider(Provider)), given) as Provider;
    expect(provider).toBeInstanceOf(Provider);
    expect([provider.options.region, provider.name, provider.http, provider.limiter, provider.host]).toEqual(['us', 'reg-eu', given.http, given.limiter, 'from the host']);
    // The instance's tokens stay in its child: the host container does not see them.
    expect(host.isRegistered(Tokens.InstanceName)).toBe(false);
  });

  it.each([
    ['registers nothing', () => undefined, /Plugin "reg" did not register a provider/],
    [
      'registers twice',
      (registrar: Parameters<ProviderPlugin['register']>[0]) => {
        class P {
          enrich = async () => FOUND;
        }
        registrar.provider(P);
        registrar.provider(P);
      },
      /registered a provider twice for instance "reg-eu"/,
    ],
    [
      'registers a class without enrich',
      (registrar: Parameters<ProviderPlugin['register']>[0]) => registrar.provider(class {} as never),
      /registered a provider without an enrich\(\) method/,
    ],
  ])('fails with X_PLUGIN_REGISTER_FAILED when the plugin %s', (_what, register, message) => {
    expect(() => registerProvider(load(register as ProviderPlugin['register']), services())).toThrow(expect.objectContaining({ code: 'X_PLUGIN_REGISTER_FAILED', message: expect.stringMatching(message) }));
  });

  it('wraps a constructor that throws, with the cause kept and secrets removed from the message', () => {
    class Exploding {
      constructor() {
        throw new Error(`bad key ${SECRET}`);
      }
    }
    let error: unknown;
    try {
      registerProvider(load((registrar) => registrar.provider(Exploding as never)), services());
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'X_PLUGIN_REGISTER_FAILED' });
    expect((error as Error).message).toMatch(/Registering plugin "reg" for instance "reg-eu" failed: bad key \[REDACTED\]\. Every constructor parameter needs @inject/);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});
