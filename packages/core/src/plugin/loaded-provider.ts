import type { ProviderInstanceConfig } from '../config/config-schema.js';
import type { ProviderManifest } from './manifest.js';
import type { ProviderPlugin } from './provider.js';

/**
 * A provider instance after loading: the plugin was imported, its manifest validated, the core
 * range checked and its options parsed by the plugin's own schema (defaults applied).
 * This is what the engine (`createEnricher`) consumes; a host that imports plugins itself can
 * build these directly with `prepareProvider`.
 */
export interface LoadedProvider {
  /** The instance name (`providers.<name>` in config). */
  readonly name: string;
  readonly plugin: ProviderPlugin;
  readonly manifest: ProviderManifest;
  /** Options after the plugin's schema (defaults applied). Contains secrets: never log it raw. */
  readonly options: Record<string, unknown>;
  readonly config: ProviderInstanceConfig;
}
