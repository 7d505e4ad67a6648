import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { construct, type InjectableClass } from '../di/construct.js';
import { Tokens } from '../contract/tokens.js';
import { XEnrichError, isXEnrichError } from '../contract/x-enrich-error.js';
import { createSecretScrubber } from '../contract/secret.js';
import type { LoadedProvider } from './loaded-provider.js';
import type { EnrichmentProvider } from '../contract/provider.js';
import { CORE_PACKAGE_DIR } from './resolve-plugin.js';

/**
 * A container for a host that has none: a child of this copy of tsyringe's root container.
 * A host with its own container (any tsyringe 4.x) passes that instead; each provider instance
 * gets a child of it either way.
 */
export function createContainer(): DependencyContainer {
  return rootContainer.createChildContainer();
}

/** Values core binds to its tokens in each instance's child container. */
export interface InstanceBindings {
  logger: unknown;
  clock: unknown;
  http: unknown;
  rateLimiter: unknown;
}

/**
 * Builds one instance's provider: a child of `parent` holding core's tokens, the plugin's
 * `register` step, then the provider class constructed from its own declaration of its tokens
 * (`static inject` or `@inject` decorators; see `construct`), never from one tsyringe copy's
 * private type map. So it works with a plugin that brought its own @x/core and tsyringe, and
 * with a host container from any tsyringe 4.x.
 *
 * @throws XEnrichError X_PLUGIN_REGISTER_FAILED saying what went wrong; when the plugin runs
 *   on its own copy of @x/core, the message names both copies and the fix.
 */
export function registerProvider(loaded: LoadedProvider, parent: DependencyContainer | undefined, bindings: InstanceBindings, secrets: readonly string[] = []): EnrichmentProvider {
  const { plugin, manifest, options, name } = loaded;
  const child = (parent ?? rootContainer).createChildContainer();
  child.register(Tokens.ProviderOptions, { useValue: options });
  child.register(Tokens.InstanceName, { useValue: name });
  child.register(Tokens.Manifest, { useValue: manifest });
  child.register(Tokens.Logger, { useValue: bindings.logger });
  child.register(Tokens.Clock, { useValue: bindings.clock });
  child.register(Tokens.HttpClient, { useValue: bindings.http });
  child.register(Tokens.RateLimiter, { useValue: bindings.rateLimiter });
  let registered: InjectableClass<EnrichmentProvider> | undefined;
  try {
    plugin.register({
      container: child,
      provider(implementation) {
        if (registered) throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `Plugin "${manifest.id}" registered a provider twice for instance "${name}".`);
        registered = implementation as InjectableClass<EnrichmentProvider>;
      },
    });
    let provider: EnrichmentProvider;
    if (registered) provider = construct(registered, child);
    else if (child.isRegistered(Tokens.Provider)) provider = child.resolve<EnrichmentProvider>(Tokens.Provider);
    else throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `Plugin "${manifest.id}" did not register a provider (call registrar.provider(Class) in register).`);
    if (typeof provider?.enrich !== 'function') {
      throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `Plugin "${manifest.id}" registered a provider without an enrich() method.`);
    }
    // Whoever asks the container later gets this same instance.
    if (registered) child.register(Tokens.Provider, { useValue: provider });
    return provider;
  } catch (error) {
    const scrub = createSecretScrubber(secrets);
    const reason = scrub(error instanceof Error ? error.message : String(error));
    const copies = loaded.source?.ownCore
      ? ` The plugin (${loaded.source.entry}) uses its own copy of @x/core at ${loaded.source.ownCore}, not the host's at ${CORE_PACKAGE_DIR}: ` +
        `declare @x/core and zod as peerDependencies of ${manifest.packageName} (devDependencies for its own tests) and install it into the host, or remove its node_modules/@x/core.`
      : '';
    const message = isXEnrichError(error) && error.message.startsWith('Plugin "') ? reason : `Registering plugin "${manifest.id}" for instance "${name}" failed: ${reason}`;
    throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `${message}${copies}`, { cause: error });
  }
}
