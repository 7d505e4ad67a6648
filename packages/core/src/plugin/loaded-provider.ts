import type { ProviderInstanceConfig } from '../config/config-schema.js';
import type { ProviderManifest } from '../contract/manifest.js';
import type { ProviderPlugin } from '../contract/provider.js';

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
  /** Where the loader imported the plugin from (absent when a host built it with `prepareProvider`). */
  readonly source?: PluginSource;
}

/** Where a plugin came from, for errors that must name files. */
export interface PluginSource {
  /** The plugin's entry file. */
  readonly entry: string;
  /**
   * The copy of @x/core the plugin's own imports resolve to, when it is not the host's: a
   * plugin with its own node_modules. Core builds providers without either copy's decorator
   * metadata, so this mostly works; errors name both copies when it does not.
   */
  readonly ownCore?: string;
}
