import { zProviderInstanceConfig, type ProviderInstanceConfig } from '../config/config-schema.js';
import { ValidationError } from '../contract/x-enrich-error.js';
import type { LoadedProvider } from '../plugin/loaded-provider.js';
import { zProviderManifest } from '../contract/manifest.js';
import type { ProviderPlugin } from '../contract/provider.js';
import { instanceManifest } from '../plugin/loader.js';

export interface TestProviderOptions {
  /** Instance name; default the plugin id. */
  name?: string;
  /** The plugin's options (validated by its schema). */
  options?: Record<string, unknown>;
  /** Instance config overrides (`rateLimit`, `cache`, `resilience` ...), in config-file form (`10s`). */
  config?: Partial<Record<keyof ProviderInstanceConfig, unknown>>;
}

/**
 * A `LoadedProvider` straight from a plugin object, for tests: validates the manifest and the
 * options like the loader does (without importing anything or checking the core range).
 * @throws ValidationError when the manifest or the options are invalid.
 */
export function loadTestProvider(plugin: ProviderPlugin, test: TestProviderOptions = {}): LoadedProvider {
  const manifest = zProviderManifest.parse(plugin.manifest);
  const parsed = manifest.optionsSchema.safeParse(test.options ?? {});
  if (!parsed.success) {
    throw new ValidationError(
      'X_PLUGIN_OPTIONS_INVALID',
      `Options for "${test.name ?? manifest.id}" are invalid:`,
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  const config = zProviderInstanceConfig.parse({ use: manifest.packageName, ...test.config, options: test.options ?? {} });
  const options = parsed.data as Record<string, unknown>;
  // What the plugin says of this instance (its types, TTLs, rate limits), as the loader applies it.
  const instance = instanceManifest(plugin, manifest, options, `providers.${test.name ?? manifest.id}`);
  if ('problems' in instance) throw new ValidationError('X_PLUGIN_OPTIONS_INVALID', `Options for "${test.name ?? manifest.id}" are invalid:`, instance.problems);
  return { name: test.name ?? manifest.id, plugin, manifest: instance.manifest, options, config };
}
