import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSecrets, redactConfig } from '../config/redact.js';
import { configJsonSchema, parseConfig } from '../config/load-config.js';
import type { EnricherConfigInput } from '../config/config-schema.js';
import { isValidationError, type ValidationError } from '../contract/x-enrich-error.js';
import type { Logger } from '../contract/logger.js';
import { CORE_VERSION } from '../version.js';
import { assertUniqueProviderNames, loadProviders, prepareProvider, type ProviderWarning } from './loader.js';
import type { ProviderPlugin } from '../contract/provider.js';
import { listInstalledPlugins } from './resolve-plugin.js';
import { zProviderManifest } from '../contract/manifest.js';
import { validationIssues } from '../config/validation-issues.js';
import { manifest as fakeManifest } from '../../test/fake-plugins.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/plugins/', import.meta.url));
const KEY = 'fixture-key-0123456789abcdef';

function config(providers: EnricherConfigInput['providers'], extra: Partial<EnricherConfigInput> = {}) {
  return parseConfig({ providers, ...extra }, { env: {} });
}

async function loadError(promise: Promise<unknown>): Promise<ValidationError> {
  try {
    await promise;
  } catch (error) {
    if (isValidationError(error)) return error;
    throw error;
  }
  throw new Error('expected loadProviders to fail');
}

function recordingLogger(lines: Array<{ level: string; obj: object; msg?: string }>): Logger {
  const log = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, msg });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => recordingLogger(lines) };
}

let project: string;
beforeAll(async () => {
  // A host project with an installed provider package (a shim over a fixture) and an unrelated package.
  project = await mkdtemp(join(tmpdir(), 'x-enrich-loader-'));
  const pkg = join(project, 'node_modules', '@x', 'provider-fixture');
  await mkdir(pkg, { recursive: true });
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: '@x/provider-fixture', version: '1.2.3', type: 'module', keywords: ['x-enrich-provider'], exports: { '.': { import: './index.js' } } }));
  await writeFile(join(pkg, 'index.js'), `export { default } from ${JSON.stringify(pathToFileURL(join(fixtures, 'good-plugin.js')).href)};\n`);
  await mkdir(join(project, 'node_modules', 'left-pad'), { recursive: true });
  await writeFile(join(project, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.0.0' }));
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

describe('loadProviders', () => {
  it('loads a plugin from a local path, a directory and an installed package, with option defaults', async () => {
    const loaded = await loadProviders(
      config({
        local: { use: './good-plugin.js', options: { apiKey: KEY } },
        dir: { use: './dir-plugin', options: { apiKey: KEY, threshold: 2 } },
        named: { use: './named-export-plugin', options: { apiKey: KEY } },
        disabled: { use: './does-not-exist.js', enabled: false },
      }),
      { importFrom: fixtures },
    );
    expect(loaded.map((provider) => [provider.name, provider.manifest.packageName, provider.options])).toEqual([
      ['local', '@x/provider-fixture', { apiKey: KEY, threshold: 5 }],
      ['dir', '@x/provider-dir-fixture', { apiKey: KEY, threshold: 2 }],
      ['named', '@x/provider-named', { apiKey: KEY, threshold: 5 }],
    ]);
    expect(loaded[0]!.manifest.lifecycle).toEqual({ status: 'active' });
    expect(loaded[0]!.config.use).toBe('./good-plugin.js');

    const installed = await loadProviders(config({ vt: { use: '@x/provider-fixture', options: { apiKey: KEY } } }), { importFrom: project });
    expect(installed[0]!.manifest.version).toBe('1.2.3');
  });

  it('times out a plugin whose import never settles, with a clear X_PLUGIN_IMPORT_FAILED', async () => {
    const error = await loadError(loadProviders(config({ hung: { use: './hangs-on-import.js' } }), { importFrom: fixtures, importTimeoutMs: 200 }));
    expect(error.code).toBe('X_PLUGIN_IMPORT_FAILED');
    expect(error.message).toMatch(/hangs-on-import\.js.*did not finish importing within 200 ms \(a top-level await that never settles\?\)/);
  });

  it('names the installed plugins when a package is unknown', async () => {
    const error = await loadError(loadProviders(config({ vt: { use: '@x/provider-nope' } }), { importFrom: project }));
    expect(error.code).toBe('X_PLUGIN_NOT_FOUND');
    expect(error.issues).toEqual([
      expect.objectContaining({ path: 'providers.vt.use', message: expect.stringContaining('package "@x/provider-nope" is not installed') }),
    ]);
    expect(error.message).toContain('Installed plugins: @x/provider-fixture@1.2.3');
    expect(error.message).not.toContain('left-pad');
  });

  it("resolves package names from a host's fallback directories after importFrom, and lists their plugins", async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'x-enrich-config-dir-'));
    try {
      // The config lives where nothing is installed; the host (project) ships the plugin.
      const found = await loadProviders(config({ vt: { use: '@x/provider-fixture', options: { apiKey: KEY } } }), { importFrom: elsewhere, fallbackImportFrom: [project] });
      expect(found[0]!.manifest.version).toBe('1.2.3');
      const error = await loadError(loadProviders(config({ vt: { use: '@x/provider-nope' } }), { importFrom: elsewhere, fallbackImportFrom: [project] }));
      expect(error.message).toContain(`looked in node_modules from ${elsewhere}, then ${project}`);
      expect(error.message).toContain('Installed plugins: @x/provider-fixture@1.2.3');
      // Paths stay relative to importFrom: a fallback never supplies a path.
      const path = await loadError(loadProviders(config({ p: { use: './good-plugin.js' } }), { importFrom: elsewhere, fallbackImportFrom: [fixtures] }));
      expect(path.code).toBe('X_PLUGIN_NOT_FOUND');
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('reports a bad manifest with its field paths', async () => {
    const error = await loadError(loadProviders(config({ bad: { use: './bad-manifest-plugin.js' } }), { importFrom: fixtures }));
    expect(error.code).toBe('X_PLUGIN_MANIFEST_INVALID');
    const text = error.issues.map((issue) => issue.message).join('\n');
    expect(text).toContain('manifest of @x/provider-fixture is invalid at id:');
    expect(text).toContain('invalid at observableTypes.0:');
    expect(text).toContain('invalid at optionsSchema:');
  });

  it('refuses a plugin for another core version, naming both sides', async () => {
    const error = await loadError(loadProviders(config({ foo: { use: './wrong-core-plugin.js', options: { apiKey: KEY } } }), { importFrom: fixtures }));
    expect(error.code).toBe('X_PLUGIN_CORE_INCOMPATIBLE');
    expect(error.issues[0]!.message).toBe(`@x/provider-foo: expected @x/core '^2.0.0', '${CORE_VERSION}' is installed`);
    // and accepts it when the host's core is in range
    await expect(loadProviders(config({ foo: { use: './wrong-core-plugin.js', options: { apiKey: KEY } } }), { importFrom: fixtures, coreVersion: '2.1.0' })).resolves.toHaveLength(1);
  });

  it("reports bad options at providers.<name>.options.<path>, without echoing the values", async () => {
    const error = await loadError(loadProviders(config({ vt: { use: './good-plugin.js', options: { apiKey: '', threshold: 0, extra: KEY } } }), { importFrom: fixtures }));
    expect(error.code).toBe('X_PLUGIN_OPTIONS_INVALID');
    expect(error.issues.map((issue) => issue.path)).toEqual(['providers.vt.options.apiKey', 'providers.vt.options.threshold', 'providers.vt.options.extra']);
    expect(error.message).not.toContain(KEY);
  });

  it("scrubs the secret from a plugin's own message that quotes it", async () => {
    const error = await loadError(loadProviders(config({ vt: { use: './good-plugin.js', options: { apiKey: `${KEY} oops` } } }), { importFrom: fixtures }));
    expect(error.issues[0]).toMatchObject({ path: 'providers.vt.options.apiKey', message: 'API key "[REDACTED]" contains a space' });
    expect(error.message).not.toContain(KEY);
  });

  it('collects one problem per instance across all instances, each with its code', async () => {
    const error = await loadError(
      loadProviders(
        config({
          ok: { use: './good-plugin.js', options: { apiKey: KEY } },
          missing: { use: './missing-plugin.js' },
          foo: { use: './wrong-core-plugin.js', options: { apiKey: KEY } },
          opts: { use: './good-plugin.js', options: {} },
          junk: { use: './not-a-plugin.js' },
          crash: { use: './throws-on-import.js' },
          OK: { use: './good-plugin.js', options: { apiKey: KEY } },
        }),
        { importFrom: fixtures },
      ),
    );
    expect(error.code).toBe('X_PLUGIN_LOAD_FAILED');
    expect(error.issues.map((issue) => [issue.path, issue.code])).toEqual([
      ['providers.missing.use', 'X_PLUGIN_NOT_FOUND'],
      ['providers.foo.use', 'X_PLUGIN_CORE_INCOMPATIBLE'],
      ['providers.opts.options.apiKey', 'X_PLUGIN_OPTIONS_INVALID'],
      ['providers.junk.use', 'X_PLUGIN_INVALID'],
      ['providers.crash.use', 'X_PLUGIN_IMPORT_FAILED'],
      ['providers.OK', 'X_PLUGIN_DUPLICATE_NAME'],
    ]);
    expect(error.message).toContain('was found but failed while importing: plugin crashed while loading');
    expect(error.message).toContain('[X_PLUGIN_CORE_INCOMPATIBLE]');
  });
});

describe('instanceManifest', () => {
  const plugin = (instanceManifest: ProviderPlugin['instanceManifest']): ProviderPlugin => ({ manifest: fakeManifest(), register: () => undefined, instanceManifest });

  it("applies what the plugin says of one instance from its options: types, quota, TTLs, name", () => {
    const loaded = prepareProvider('x', plugin((options) => ({ displayName: `Fake ${String(options.threshold)}`, observableTypes: ['domain'], defaultRateLimits: [{ requests: 2, perMs: 1_000 }], defaultCacheTtlMs: { domain: 5 } })), { options: { threshold: 9 } });
    expect(loaded.manifest).toMatchObject({ displayName: 'Fake 9', observableTypes: ['domain'], defaultRateLimits: [{ requests: 2, perMs: 1_000 }], defaultCacheTtlMs: { domain: 5 }, id: 'fake' });
  });

  it('refuses types the plugin does not declare, an invalid answer, and a throw, each at the options path', () => {
    const problem = (instanceManifest: ProviderPlugin['instanceManifest']) => {
      try {
        prepareProvider('x', plugin(instanceManifest), {});
        return '';
      } catch (error) {
        return (error as ValidationError).message;
      }
    };
    expect(problem(() => ({ observableTypes: ['url'] }))).toMatch(/providers\.x\.options: .*handles url, which the plugin's manifest does not declare/);
    expect(problem(() => ({ defaultRateLimits: [{ requests: 0, perMs: 1 }] }))).toMatch(/providers\.x\.options: .*instanceManifest\(\) returned an invalid manifest: defaultRateLimits\.0\.requests/);
    expect(problem(() => {
      throw new Error('no requests configured');
    })).toMatch(/providers\.x\.options: .*no requests configured/);
  });
});

describe('lifecycle', () => {
  it('requires the date a deprecated or end-of-life provider retired, and a docs URL', () => {
    const problems = (lifecycle: object, docsUrl = 'https://example.org/docs') =>
      validationIssues(zProviderManifest.safeParse({ ...fakeManifest(), lifecycle, docsUrl }).error ?? { issues: [] }).map((issue) => `${issue.path}: ${issue.message}`);
    expect(problems({ status: 'deprecated' })).toEqual(['lifecycle.deprecatedSince: a deprecated provider needs deprecatedSince (YYYY-MM-DD)']);
    expect(problems({ status: 'end-of-life', deprecatedSince: '2020-01-01' })).toEqual(['lifecycle.endOfLife: an end-of-life provider needs endOfLife (YYYY-MM-DD)']);
    expect(problems({ status: 'end-of-life', endOfLife: '2021-08-11' })).toEqual([]);
    expect(problems({ status: 'active' }, 'see the README')).toEqual([expect.stringMatching(/^docsUrl: /)]);
  });

  it('warns once per deprecated or end-of-life plugin, not per instance', async () => {
    const lines: Array<{ level: string; obj: object; msg?: string }> = [];
    const warnings: ProviderWarning[] = [];
    const loaded = await loadProviders(
      config({
        old1: { use: './deprecated-plugin.js', options: { apiKey: KEY } },
        old2: { use: './deprecated-plugin.js', options: { apiKey: KEY } },
        eol: { use: './eol-plugin.js', options: { apiKey: KEY } },
      }),
      { importFrom: fixtures, logger: recordingLogger(lines), onWarning: (warning) => warnings.push(warning) },
    );
    expect(loaded).toHaveLength(3);
    expect(warnings.map((warning) => [warning.code, warning.plugin, warning.instances])).toEqual([
      ['X_WARN_PROVIDER_DEPRECATED', '@x/provider-old', ['old1', 'old2']],
      ['X_WARN_PROVIDER_END_OF_LIFE', '@x/provider-ancient', ['eol']],
    ]);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 'warn', obj: { code: 'X_WARN_PROVIDER_END_OF_LIFE', plugin: '@x/provider-ancient', lifecycle: { status: 'end-of-life' } } });
    expect(lines[1]!.msg).toBe('@x/provider-ancient is end-of-life (2024-06-30); migrate to @x/provider-fixture. The upstream API v1 is gone. (used by eol)');
    expect(lines[0]!.msg).toContain('@x/provider-old is deprecated since 2025-01-01');
  });

  it('refuses end-of-life plugins when the host or the config says so, naming the replacement', async () => {
    for (const [options, extra] of [[{ allowEndOfLife: false }, {}], [{}, { allowEndOfLife: false }]] as const) {
      const error = await loadError(loadProviders(config({ eol: { use: './eol-plugin.js', options: { apiKey: KEY } } }, extra), { importFrom: fixtures, ...options }));
      expect(error.code).toBe('X_PROVIDER_END_OF_LIFE_REFUSED');
      expect(error.issues[0]!.message).toContain('migrate to @x/provider-fixture');
    }
  });
});

describe('prepareProvider', () => {
  it('prepares a plugin a host imported itself', async () => {
    const importFixture = async (file: string) => ((await import(pathToFileURL(join(fixtures, file)).href)) as { default: ProviderPlugin }).default;
    const plugin = await importFixture('good-plugin.js');
    const loaded = prepareProvider('vt', plugin, { options: { apiKey: KEY } });
    expect(loaded).toMatchObject({ name: 'vt', options: { apiKey: KEY, threshold: 5 }, config: { use: '@x/provider-fixture', enabled: true } });
    expect(() => prepareProvider('vt', plugin, { options: {} })).toThrow(expect.objectContaining({ code: 'X_PLUGIN_OPTIONS_INVALID' }));
    expect(() => prepareProvider('vt', plugin, { options: { apiKey: KEY }, rateLimit: 'lots' as never })).toThrow(expect.objectContaining({ code: 'X_CONFIG_INVALID' }));
    const future = await importFixture('wrong-core-plugin.js');
    expect(() => prepareProvider('foo', future, { options: { apiKey: KEY } }, { coreVersion: '1.4.0' })).toThrow("@x/provider-foo: expected @x/core '^2.0.0', '1.4.0' is installed");
  });

  it('rejects duplicate names in a host-assembled list, by the rule the config loader uses (case-folded)', () => {
    expect(() => assertUniqueProviderNames([{ name: 'a' }, { name: 'b' }, { name: 'a' }])).toThrow(expect.objectContaining({ code: 'X_PLUGIN_DUPLICATE_NAME' }));
    expect(() => assertUniqueProviderNames([{ name: 'vt' }, { name: 'VT' }])).toThrow(/"VT" clashes with "vt"/);
    expect(() => assertUniqueProviderNames([{ name: 'vt' }, { name: 'vt2' }])).not.toThrow();
  });
});

describe('secrets of loaded providers', () => {
  it('are found through the plugin schema and redacted from the printed config', async () => {
    const cfg = config({ vt: { use: './good-plugin.js', options: { apiKey: KEY } } });
    const loaded = await loadProviders(cfg, { importFrom: fixtures });
    expect(collectSecrets(loaded)).toEqual([KEY]);
    expect(JSON.stringify(redactConfig(cfg, loaded))).not.toContain(KEY);
  });
});

describe('configJsonSchema with loaded providers', () => {
  it("includes each instance's options schema, secrets writeOnly", async () => {
    const loaded = await loadProviders(config({ vt: { use: './good-plugin.js', options: { apiKey: KEY } } }), { importFrom: fixtures });
    const schema = configJsonSchema(loaded) as { properties: { providers: { properties: Record<string, { properties: { options: { properties: Record<string, Record<string, unknown>> } } }> } } };
    const options = schema.properties.providers.properties.vt!.properties.options.properties;
    expect(options.apiKey).toMatchObject({ type: 'string', writeOnly: true, description: 'API key.' });
    expect(options.threshold).toMatchObject({ type: 'integer', default: 5 });
  });
});

describe('listInstalledPlugins', () => {
  it('finds packages by the x-enrich-provider keyword', () => {
    expect(listInstalledPlugins(project).map((plugin) => plugin.name)).toEqual(['@x/provider-fixture']);
  });
});
