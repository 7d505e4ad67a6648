import { pathToFileURL } from 'node:url';
import { zProviderInstanceConfig, type EnricherConfig, type ProviderInstanceConfig } from '../config/config-schema.js';
import { collectSecrets } from '../config/redact.js';
import { validationIssues } from '../config/validation-issues.js';
import { oneShot } from '../config/parse-once.js';
import { checkWindows } from '../rate-limit/rate-limiter.js';
import type { ErrorCode } from '../contract/error-codes.js';
import { ValidationError, type ValidationIssue } from '../contract/x-enrich-error.js';
import { silentLogger, type Logger } from '../contract/logger.js';
import { createSecretScrubber } from '../contract/secret.js';
import { CORE_VERSION } from '../version.js';
import { coreRangeCheck } from './core-range.js';
import type { LoadedProvider } from './loaded-provider.js';
import { zProviderManifest, type Lifecycle, type ProviderManifest } from '../contract/manifest.js';
import type { ProviderPlugin } from '../contract/provider.js';
import { DEFAULT_CONDITIONS, PROVIDER_KEYWORD, isPathSpecifier, listInstalledPlugins, pluginSource, resolvePluginEntry } from './resolve-plugin.js';
import type { z } from 'zod';

/** A lifecycle warning: one per plugin (not per instance) and load. */
export interface ProviderWarning {
  code: 'X_WARN_PROVIDER_DEPRECATED' | 'X_WARN_PROVIDER_END_OF_LIFE';
  /** The plugin's package name. */
  plugin: string;
  /** The instance names that use it. */
  instances: string[];
  lifecycle: Lifecycle;
  message: string;
}

export interface PrepareProviderOptions {
  /** The @x/core version to check `manifest.coreRange` against. Default: the installed one. */
  coreVersion?: string;
  /** `false` refuses end-of-life plugins (X_PROVIDER_END_OF_LIFE_REFUSED). Default: allowed, with a warning. */
  allowEndOfLife?: boolean;
  /** Receives the lifecycle warning, if any, as `warn({ code, plugin, lifecycle }, message)`. */
  logger?: Logger;
  onWarning?: (warning: ProviderWarning) => void;
}

export interface LoadProvidersOptions extends PrepareProviderOptions {
  /** Directory that package names and relative paths are resolved from. Default: `process.cwd()`. */
  importFrom?: string;
  /**
   * Further directories whose node_modules resolve package names that `importFrom` does not
   * have, in order: a host's own bundled plugins (the x-enrich app ships both VirusTotal ones).
   * Paths in `use` stay relative to `importFrom`. Their plugins are listed when a name is unknown.
   */
  fallbackImportFrom?: readonly string[];
  /** `exports` conditions for installed packages. Default: import, node, default. */
  conditions?: readonly string[];
  /** Longest a plugin's import may take (X_PLUGIN_IMPORT_FAILED beyond). Default 10 s. */
  importTimeoutMs?: number;
}

type Problem = ValidationIssue & { code: ErrorCode };

interface Checked {
  loaded?: LoadedProvider;
  problems: Problem[];
}

function isPluginShape(value: unknown): value is ProviderPlugin {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as ProviderPlugin).register === 'function' &&
    (value as ProviderPlugin).manifest !== null &&
    typeof (value as ProviderPlugin).manifest === 'object'
  );
}

/** `default` or `plugin` export (also through a CommonJS `default.default`). */
function pluginFromModule(module: Record<string, unknown>): unknown {
  for (const candidate of [module.default, module.plugin, (module.default as Record<string, unknown> | undefined)?.default]) {
    if (isPluginShape(candidate)) return candidate;
  }
  return module.default ?? module.plugin;
}

function lifecycleSentence(manifest: ProviderManifest): string {
  const { lifecycle } = manifest;
  const parts: string[] = [];
  if (lifecycle.status === 'deprecated') parts.push(`${manifest.packageName} is deprecated${lifecycle.deprecatedSince ? ` since ${lifecycle.deprecatedSince}` : ''}`);
  else parts.push(`${manifest.packageName} is end-of-life${lifecycle.endOfLife ? ` (${lifecycle.endOfLife})` : ''}`);
  if (lifecycle.endOfSupport) parts.push(`support ends ${lifecycle.endOfSupport}`);
  if (lifecycle.replacedBy) parts.push(`migrate to ${lifecycle.replacedBy}`);
  let sentence = parts.join('; ');
  if (lifecycle.message) sentence += `. ${lifecycle.message}`;
  if (lifecycle.url) sentence += ` (${lifecycle.url})`;
  return sentence;
}

/** Validates one plugin for one instance and collects every problem instead of stopping at the first. */
function checkProvider(name: string, plugin: unknown, config: ProviderInstanceConfig, options: PrepareProviderOptions, source: string): Checked {
  const at = `providers.${name}`;
  if (!isPluginShape(plugin)) {
    return {
      problems: [{ code: 'X_PLUGIN_INVALID', path: `${at}.use`, message: `${source} does not export a plugin: expected \`export default definePlugin({ manifest, register })\` (or a \`plugin\` export)` }],
    };
  }
  const parsed = zProviderManifest.safeParse(plugin.manifest, oneShot());
  if (!parsed.success) {
    const label = typeof plugin.manifest.packageName === 'string' ? plugin.manifest.packageName : source;
    return {
      problems: validationIssues(parsed.error, { input: plugin.manifest }).map((issue) => ({
        code: 'X_PLUGIN_MANIFEST_INVALID' as const,
        path: `${at}.use`,
        message: `manifest of ${label} is invalid at ${issue.path || '(root)'}: ${issue.message}`,
      })),
    };
  }
  const manifest = parsed.data;
  const problems: Problem[] = [];
  const coreVersion = options.coreVersion ?? CORE_VERSION;
  const inRange = coreRangeCheck(coreVersion, manifest.coreRange);
  if (inRange === 'invalid') {
    problems.push({ code: 'X_PLUGIN_MANIFEST_INVALID', path: `${at}.use`, message: `manifest of ${manifest.packageName} is invalid at coreRange: '${manifest.coreRange}' is not a semver range` });
  } else if (!inRange) {
    problems.push({ code: 'X_PLUGIN_CORE_INCOMPATIBLE', path: `${at}.use`, message: `${manifest.packageName}: expected @x/core '${manifest.coreRange}', '${coreVersion}' is installed` });
  }
  if (manifest.lifecycle.status === 'end-of-life' && options.allowEndOfLife === false) {
    const replacement = manifest.lifecycle.replacedBy ? `; migrate to ${manifest.lifecycle.replacedBy}` : '';
    problems.push({
      code: 'X_PROVIDER_END_OF_LIFE_REFUSED',
      path: `${at}.use`,
      message: `${manifest.packageName} is end-of-life and end-of-life providers are refused (allowEndOfLife: false)${replacement}`,
    });
  }
  const optionsSchema = manifest.optionsSchema as z.ZodType;
  const parsedOptions = optionsSchema.safeParse(config.options, oneShot());
  if (!parsedOptions.success) {
    // A plugin's own messages may quote what was given; never let that be its secret.
    const scrub = createSecretScrubber(rawSecrets(optionsSchema, config.options));
    for (const issue of validationIssues(parsedOptions.error, { input: config.options, prefix: `${at}.options` })) {
      problems.push({ ...issue, message: scrub(issue.message), code: 'X_PLUGIN_OPTIONS_INVALID' });
    }
  } else if (parsedOptions.data === null || typeof parsedOptions.data !== 'object' || Array.isArray(parsedOptions.data)) {
    problems.push({ code: 'X_PLUGIN_MANIFEST_INVALID', path: `${at}.options`, message: `${manifest.packageName}: optionsSchema must produce an object` });
  }
  if (problems.length > 0) return { problems };
  const instanceOptions = parsedOptions.data as Record<string, unknown>;
  const instance = instanceManifest(plugin, manifest, instanceOptions, at);
  if ('problems' in instance) return { problems: instance.problems };
  return { loaded: { name, plugin, manifest: instance.manifest, options: instanceOptions, config }, problems };
}

/** What `plugin.instanceManifest()` may return. */
const buildInstanceManifestSchema = () =>
  zProviderManifest
    .pick({
      displayName: true,
      observableTypes: true,
      defaultCacheTtlMs: true,
      defaultNotFoundTtlMs: true,
      defaultRateLimits: true,
      lifecycle: true,
      docsUrl: true,
    })
    .partial();
let instanceManifestSchema: ReturnType<typeof buildInstanceManifestSchema> | undefined;
// Built on first use: few plugins have an instanceManifest, and a start builds only what it parses (issue 16).
const zInstanceManifest = () => (instanceManifestSchema ??= buildInstanceManifestSchema());

/** The manifest of one instance: the plugin's, with what `plugin.instanceManifest(options)` says over it. */
export function instanceManifest(plugin: ProviderPlugin, manifest: ProviderManifest, options: Record<string, unknown>, at: string): { manifest: ProviderManifest } | { problems: Problem[] } {
  if (typeof plugin.instanceManifest !== 'function') return { manifest };
  const problem = (message: string): { problems: Problem[] } => ({ problems: [{ code: 'X_PLUGIN_OPTIONS_INVALID', path: `${at}.options`, message: `${manifest.packageName}: ${message}` }] });
  let overrides: unknown;
  try {
    overrides = plugin.instanceManifest(options);
  } catch (error) {
    return problem(error instanceof Error ? error.message : String(error));
  }
  const parsed = zInstanceManifest().safeParse(overrides, oneShot());
  if (!parsed.success) return problem(`instanceManifest() returned an invalid manifest: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  const outside = (parsed.data.observableTypes ?? []).filter((type) => !manifest.observableTypes.includes(type));
  if (outside.length > 0) return problem(`the instance handles ${outside.join(', ')}, which the plugin's manifest does not declare`);
  const defined = Object.fromEntries(Object.entries(parsed.data).filter(([, value]) => value !== undefined));
  return { manifest: { ...manifest, ...defined } };
}

/** The values given for secret-marked options, before validation (so even invalid ones are known). */
function rawSecrets(optionsSchema: z.ZodType, options: unknown): string[] {
  const pseudo = { manifest: { optionsSchema }, options } as unknown as LoadedProvider;
  return collectSecrets([pseudo]);
}

function loadError(problems: readonly Problem[], subject: string): ValidationError {
  const codes = new Set(problems.map((problem) => problem.code));
  const code: ErrorCode = codes.size === 1 ? [...codes][0]! : 'X_PLUGIN_LOAD_FAILED';
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new ValidationError(code, `Cannot load ${subject} (${count}):`, problems, { details: { codes: [...codes] } });
}

function emitWarnings(loaded: readonly LoadedProvider[], options: PrepareProviderOptions): ProviderWarning[] {
  const byPlugin = new Map<string, { manifest: ProviderManifest; instances: string[] }>();
  for (const provider of loaded) {
    if (provider.manifest.lifecycle.status === 'active') continue;
    const entry = byPlugin.get(provider.manifest.packageName) ?? { manifest: provider.manifest, instances: [] };
    entry.instances.push(provider.name);
    byPlugin.set(provider.manifest.packageName, entry);
  }
  const warnings: ProviderWarning[] = [];
  for (const [plugin, { manifest, instances }] of byPlugin) {
    const code = manifest.lifecycle.status === 'deprecated' ? 'X_WARN_PROVIDER_DEPRECATED' : 'X_WARN_PROVIDER_END_OF_LIFE';
    const warning: ProviderWarning = { code, plugin, instances, lifecycle: manifest.lifecycle, message: `${lifecycleSentence(manifest)} (used by ${instances.join(', ')})` };
    (options.logger ?? silentLogger).warn({ code, plugin, lifecycle: manifest.lifecycle, instances }, warning.message);
    options.onWarning?.(warning);
    warnings.push(warning);
  }
  return warnings;
}

/**
 * For hosts that import plugins themselves: validates `plugin` for the instance `name` (manifest,
 * core range, options with defaults, lifecycle) and returns what the engine consumes.
 * `instanceConfig` is the instance's config as in a config file (`use` defaults to the plugin's
 * package name). A deprecated or end-of-life plugin warns through `logger` / `onWarning`.
 *
 * @throws ValidationError with every problem (codes X_PLUGIN_INVALID, X_PLUGIN_MANIFEST_INVALID,
 *   X_PLUGIN_CORE_INCOMPATIBLE, X_PLUGIN_OPTIONS_INVALID, X_PROVIDER_END_OF_LIFE_REFUSED, X_CONFIG_INVALID).
 */
export function prepareProvider(name: string, plugin: ProviderPlugin, instanceConfig: Partial<z.input<typeof zProviderInstanceConfig>> = {}, options: PrepareProviderOptions = {}): LoadedProvider {
  const packageName = isPluginShape(plugin) && typeof plugin.manifest.packageName === 'string' ? plugin.manifest.packageName : name;
  const config = zProviderInstanceConfig.safeParse({ use: packageName, ...instanceConfig }, oneShot());
  if (!config.success) {
    throw new ValidationError('X_CONFIG_INVALID', `Invalid configuration for provider instance "${name}":`, validationIssues(config.error, { input: instanceConfig, prefix: `providers.${name}` }));
  }
  const checked = checkProvider(name, plugin, config.data, options, packageName);
  if (!checked.loaded) throw loadError(checked.problems, `provider instance "${name}"`);
  emitWarnings([checked.loaded], options);
  return checked.loaded;
}

async function importPlugin(
  name: string,
  use: string,
  importFrom: string,
  fallbacks: readonly string[],
  conditions: readonly string[],
  installed: () => string,
  importTimeoutMs = 10_000,
): Promise<{ plugin?: unknown; entry?: string; problem?: Problem }> {
  let entry = resolvePluginEntry(use, importFrom, conditions);
  if (entry === undefined && !isPathSpecifier(use)) {
    for (const dir of fallbacks) if ((entry = resolvePluginEntry(use, dir, conditions)) !== undefined) break;
  }
  const path = `providers.${name}.use`;
  if (entry === undefined) {
    const what = isPathSpecifier(use) ? `no module at ${JSON.stringify(use)} (relative to ${importFrom})` : `package ${JSON.stringify(use)} is not installed (looked in node_modules from ${[importFrom, ...fallbacks].join(', then ')})`;
    return { problem: { code: 'X_PLUGIN_NOT_FOUND', path, message: `${what}. Installed plugins: ${installed()}` } };
  }
  try {
    return { plugin: pluginFromModule((await importWithTimeout(pathToFileURL(entry).href, importTimeoutMs)) as Record<string, unknown>), entry };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    // Found, but it threw while loading: not a naming problem, so not X_PLUGIN_NOT_FOUND.
    const where = entry === use ? JSON.stringify(use) : `${JSON.stringify(use)} (${entry})`;
    return { problem: { code: 'X_PLUGIN_IMPORT_FAILED', path, message: `${where} was found but failed while importing: ${reason}` } };
  }
}

/**
 * `import()` bounded in time. A plugin whose top-level await never settles would otherwise leave
 * nothing to run and Node would exit 13 without a word; the (ref'd) timer keeps the process
 * alive to say which plugin hung.
 */
async function importWithTimeout(url: string, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it did not finish importing within ${timeoutMs} ms (a top-level await that never settles?)`)), timeoutMs);
  });
  try {
    return await Promise.race([import(url), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Imports, validates and prepares every enabled provider instance in `config`: each `use` is a
 * package name (resolved from `importFrom`'s node_modules) or a path; the plugin is the module's
 * `default` (or `plugin`) export. Checks the manifest, the @x/core range, the options and the
 * lifecycle of every instance and reports all problems together. Deprecated and end-of-life
 * plugins warn once per plugin (`X_WARN_PROVIDER_DEPRECATED` / `X_WARN_PROVIDER_END_OF_LIFE`).
 * End-of-life plugins are refused when `allowEndOfLife` (option or config) is false.
 *
 * @throws ValidationError listing one problem per line, each with its code; the error's code is
 *   that code when all problems share it, else X_PLUGIN_LOAD_FAILED.
 */
export async function loadProviders(config: EnricherConfig, options: LoadProvidersOptions = {}): Promise<LoadedProvider[]> {
  const importFrom = options.importFrom ?? process.cwd();
  const conditions = options.conditions ?? DEFAULT_CONDITIONS;
  const fallbacks = options.fallbackImportFrom ?? [];
  const allowEndOfLife = options.allowEndOfLife !== false && config.allowEndOfLife !== false;
  let installedList: string | undefined;
  const installed = () => {
    if (installedList === undefined) {
      const names = new Set<string>();
      for (const dir of [importFrom, ...fallbacks]) {
        for (const plugin of listInstalledPlugins(dir)) names.add(plugin.version ? `${plugin.name}@${plugin.version}` : plugin.name);
      }
      const plugins = [...names].sort();
      installedList = plugins.length > 0 ? plugins.join(', ') : `none (provider packages list "${PROVIDER_KEYWORD}" in their package.json keywords)`;
    }
    return installedList;
  };

  const problems: Problem[] = [];
  const loaded: LoadedProvider[] = [];
  const enabled = Object.entries(config.providers).filter(([, configured]) => configured.enabled);
  const clashes = providerNameClashes(enabled.map(([name]) => name));
  for (const [name, configured] of enabled) {
    const clash = clashes.get(name);
    if (clash) {
      problems.push(clash);
      continue;
    }
    const limits = resolveQuota(name, configured, config.quotas ?? {});
    if (limits.problem) {
      problems.push(limits.problem);
      continue;
    }
    const instance = limits.instance;
    const imported = await importPlugin(name, instance.use, importFrom, fallbacks, conditions, installed, options.importTimeoutMs);
    if (imported.problem) {
      problems.push(imported.problem);
      continue;
    }
    const checked = checkProvider(name, imported.plugin, instance, { ...options, allowEndOfLife }, instance.use);
    problems.push(...checked.problems);
    if (checked.loaded) loaded.push(imported.entry ? { ...checked.loaded, source: pluginSource(imported.entry) } : checked.loaded);
  }
  emitWarnings(loaded, options);
  if (problems.length > 0) throw loadError(problems, 'providers');
  return loaded;
}

/**
 * An instance's budget: its own `rateLimit`, or its quota group's windows (`quota: vt-key` with
 * top-level `quotas: { vt-key: [...] }`), checked here so a limit that can never be met is one
 * clear X_CONFIG_INVALID at load, not a lookup waiting forever.
 */
function resolveQuota(name: string, instance: ProviderInstanceConfig, quotas: EnricherConfig['quotas']): { instance: ProviderInstanceConfig; problem?: undefined } | { problem: Problem; instance?: undefined } {
  let resolved = instance;
  if (instance.quota !== undefined) {
    const path = `providers.${name}.quota`;
    const group = Object.hasOwn(quotas, instance.quota) ? quotas[instance.quota] : undefined;
    if (!group) {
      const known = Object.keys(quotas);
      return { problem: { code: 'X_CONFIG_INVALID', path, message: `quota group "${instance.quota}" is not defined under \`quotas\` (defined: ${known.length > 0 ? known.join(', ') : 'none'})` } };
    }
    if (instance.rateLimit !== undefined) {
      return { problem: { code: 'X_CONFIG_INVALID', path: `providers.${name}.rateLimit`, message: `set either rateLimit or quota: the quota group "${instance.quota}" already sets this instance's windows` } };
    }
    resolved = { ...instance, rateLimit: group };
  }
  if (resolved.rateLimit) {
    try {
      checkWindows(resolved.rateLimit, instance.quota !== undefined ? `quotas.${instance.quota}` : `providers.${name}.rateLimit`);
    } catch (error) {
      return { problem: { code: 'X_CONFIG_INVALID', path: `providers.${name}`, message: (error as Error).message } };
    }
  }
  return { instance: resolved };
}

/**
 * The one provider-name check: names key caches, metrics and records, so two instances whose
 * names differ only in case would be confused downstream. Returns a problem for each name that
 * clashes with an earlier one (case-folded). The loader, `assertUniqueProviderNames` and
 * `createEnricher` all use it.
 */
function providerNameClashes(names: readonly string[]): Map<string, Problem> {
  const seen = new Map<string, string>();
  const clashes = new Map<string, Problem>();
  for (const name of names) {
    const folded = name.toLowerCase();
    const clash = seen.get(folded);
    if (clash === undefined) seen.set(folded, name);
    else
      clashes.set(name, {
        code: 'X_PLUGIN_DUPLICATE_NAME',
        path: `providers.${name}`,
        message: clash === name ? `two provider instances are named "${name}"` : `instance name "${name}" clashes with "${clash}" (names must differ by more than case)`,
      });
  }
  return clashes;
}

/** Throws X_PLUGIN_DUPLICATE_NAME if two providers' names are equal, or differ only in case (for hosts that assemble the list themselves). */
export function assertUniqueProviderNames(providers: readonly Pick<LoadedProvider, 'name'>[]): void {
  const clashes = providerNameClashes(providers.map(({ name }) => name));
  if (clashes.size > 0) throw loadError([...clashes.values()], 'providers');
}

