import { container as rootContainer, Lifecycle as DiLifecycle, type DependencyContainer } from 'tsyringe';
import type { SecretScrubber } from '../config/secret.js';
import { Tokens, type Clock } from '../di/tokens.js';
import { XEnrichError, isXEnrichError } from '../errors/x-enrich-error.js';
import type { Logger } from '../logging/logger.js';
import type { LoadedProvider } from '../plugin/loaded-provider.js';
import type { EnrichmentProvider, ProviderConstructor } from '../plugin/provider.js';
import type { RateLimiter } from '../stores/rate-limit-store.js';

/** What core puts into an instance's child container before the plugin's `register` runs. */
export interface InstanceServices {
  /** The host's container; the instance gets a child of it. Default: a child of tsyringe's root container. */
  parent: DependencyContainer | undefined;
  /** The instance's logger (already bound to the instance and redacting). */
  logger: Logger;
  clock: Clock;
  http: unknown;
  limiter: RateLimiter;
  /** Removes the secrets from the message of a failed registration. */
  scrub: SecretScrubber;
}

/**
 * Registers one provider instance, in the spirit of credo-ts's DependencyManager: a child
 * container holding core's tokens for this instance only, then the plugin's `register` step,
 * then the provider resolved from `Tokens.Provider`. Every failure is an
 * `X_PLUGIN_REGISTER_FAILED` that names the plugin and the instance, with secrets removed.
 */
export function registerProvider(loaded: LoadedProvider, services: InstanceServices): EnrichmentProvider {
  const { plugin, manifest, options, name } = loaded;
  const child = (services.parent ?? rootContainer).createChildContainer();
  child.register(Tokens.ProviderOptions, { useValue: options });
  child.register(Tokens.InstanceName, { useValue: name });
  child.register(Tokens.Manifest, { useValue: manifest });
  child.register(Tokens.Logger, { useValue: services.logger });
  child.register(Tokens.Clock, { useValue: services.clock });
  child.register(Tokens.HttpClient, { useValue: services.http });
  child.register(Tokens.RateLimiter, { useValue: services.limiter });
  let registered: ProviderConstructor | undefined;
  try {
    plugin.register({
      container: child,
      provider(implementation) {
        if (registered) throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `Plugin "${manifest.id}" registered a provider twice for instance "${name}".`);
        registered = implementation;
        child.register(Tokens.Provider, { useClass: implementation as never }, { lifecycle: DiLifecycle.ContainerScoped });
      },
    });
    if (!registered && !child.isRegistered(Tokens.Provider)) {
      throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `Plugin "${manifest.id}" did not register a provider (call registrar.provider(Class) in register).`);
    }
    const provider = child.resolve<EnrichmentProvider>(Tokens.Provider);
    if (typeof provider?.enrich !== 'function') {
      throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `Plugin "${manifest.id}" registered a provider without an enrich() method.`);
    }
    return provider;
  } catch (error) {
    if (isXEnrichError(error)) throw error;
    throw new XEnrichError(
      'X_PLUGIN_REGISTER_FAILED',
      `Registering plugin "${manifest.id}" for instance "${name}" failed: ${services.scrub(error instanceof Error ? error.message : String(error))}. Every constructor parameter needs @inject(Tokens.X).`,
      { cause: error },
    );
  }
}
