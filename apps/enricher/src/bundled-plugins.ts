import { realpathSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolvePluginEntry } from '@x/core';
import { APP_DIR } from './app-dir.js';

/** Set to `true` by the bundler (scripts/bundle.mjs); undefined when tests run the sources. */
declare const X_ENRICH_BUNDLE: boolean | undefined;

/**
 * Whether this is the bundled CLI. The bundle carries its own copy of @x/core (and of the
 * plugins it ships), so everything below only applies to it: the sources under test import the
 * packages like any host.
 */
export const BUNDLED = typeof X_ENRICH_BUNDLE === 'boolean' && X_ENRICH_BUNDLE;

/** The plugins the bundle carries, by package name: their file in dist/ (scripts/bundle.mjs builds the same list). */
export const BUNDLED_PLUGINS: Readonly<Record<string, string>> = {
  '@x/provider-virustotal-v3': 'provider-virustotal-v3.mjs',
  '@x/provider-virustotal-v2': 'provider-virustotal-v2.mjs',
  '@x/provider-http': 'provider-http.mjs',
};

const realpath = (path: string): string | undefined => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

/**
 * The bundled file to load for `use`, or undefined to load it as any plugin. A shipped plugin is
 * taken from the bundle (which shares the bundle's core and loads in a few milliseconds) unless
 * the config's directory resolves its name to another copy than the app's own: a version the
 * user installed wins, as it does unbundled.
 */
export function bundledPluginFile(use: string, configDir: string): string | undefined {
  if (!BUNDLED || !Object.hasOwn(BUNDLED_PLUGINS, use)) return undefined;
  const theirs = resolvePluginEntry(use, configDir);
  if (theirs !== undefined) {
    const ours = resolvePluginEntry(use, APP_DIR);
    if (ours === undefined || realpath(theirs) !== realpath(ours)) return undefined;
  }
  return join(APP_DIR, 'dist', BUNDLED_PLUGINS[use]!);
}

let sharing = false;

/**
 * One core per process: from now on, `import '@x/core'` in any module outside the bundle (a
 * plugin loaded by path or from node_modules, the scaffold's options template) resolves to the
 * bundle's copy of core instead of the @x/core package on disk. Without this a plugin would get
 * a second copy of core, with its own registries (DI, secrets, errors). Called only before such
 * a module is imported: Node 20 runs module hooks in a worker thread, which costs tens of
 * milliseconds that a run using only the shipped plugins should not pay. No-op unbundled.
 */
export function shareCoreWithPlugins(): void {
  if (!BUNDLED || sharing) return;
  sharing = true;
  const dist = join(APP_DIR, 'dist');
  register(pathToFileURL(join(dist, 'core-hooks.mjs')), { data: { coreUrl: pathToFileURL(join(dist, 'core.mjs')).href } });
}
