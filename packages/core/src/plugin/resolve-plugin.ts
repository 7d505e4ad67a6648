import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginSource } from './loaded-provider.js';

/** The keyword a provider package lists in its package.json so hosts can discover it. */
export const PROVIDER_KEYWORD = 'x-enrich-provider';

/** Conditions used to pick a package's entry point from its `exports` map. */
export const DEFAULT_CONDITIONS: readonly string[] = ['import', 'node', 'default'];

interface PackageJson {
  name?: string;
  version?: string;
  main?: string;
  exports?: unknown;
  keywords?: unknown;
}

function readPackageJson(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Picks a target from an `exports` value (string, conditions object, or array of fallbacks). */
function exportTarget(value: unknown, conditions: readonly string[]): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = exportTarget(item, conditions);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    // Conditions are matched in the object's own key order, as Node does.
    for (const [key, item] of Object.entries(value)) {
      if (conditions.includes(key)) {
        const target = exportTarget(item, conditions);
        if (target !== undefined) return target;
      }
    }
  }
  return undefined;
}

function packageEntry(dir: string, subpath: string, conditions: readonly string[]): string | undefined {
  const pkg = readPackageJson(dir);
  if (pkg?.exports !== undefined) {
    const exportsMap = pkg.exports as Record<string, unknown>;
    const isSubpathMap = typeof exportsMap === 'object' && exportsMap !== null && !Array.isArray(exportsMap) && Object.keys(exportsMap).some((key) => key.startsWith('.'));
    const entry = isSubpathMap ? exportsMap[subpath] : subpath === '.' ? pkg.exports : undefined;
    const target = exportTarget(entry, conditions);
    return target === undefined ? undefined : resolve(dir, target);
  }
  if (subpath !== '.') return resolve(dir, subpath);
  for (const candidate of [pkg?.main, 'index.js', 'index.mjs'].filter((item): item is string => typeof item === 'string')) {
    const path = resolve(dir, candidate);
    if (existsSync(path) && !isDirectory(path)) return path;
    if (existsSync(`${path}.js`)) return `${path}.js`;
  }
  return undefined;
}

/** Whether `use` names a file or directory rather than a package. */
export function isPathSpecifier(use: string): boolean {
  return use.startsWith('./') || use.startsWith('../') || use === '.' || use === '..' || isAbsolute(use) || use.startsWith('file:');
}

function ancestors(from: string): string[] {
  const dirs: string[] = [];
  let current = resolve(from);
  for (;;) {
    dirs.push(current);
    const parent = dirname(current);
    if (parent === current) return dirs;
    current = parent;
  }
}

// Why not `createRequire(importFrom).resolve`: it resolves with the `require` condition, so an
// ESM-only plugin whose `exports` offers only `import` (like ours) is "not exported". And
// `import.meta.resolve(name, parent)` needs --experimental-import-meta-resolve on Node 20.
// Walking node_modules and reading `exports` ourselves is small and behaves the same everywhere.

/**
 * Resolves a plugin specifier to a file: a path (relative to `importFrom`; a directory uses its
 * package.json `exports`/`main`, else index.js) or a package name looked up in the
 * `node_modules` folders above `importFrom`, honouring `exports` with `conditions`.
 * Returns undefined when nothing is found.
 */
export function resolvePluginEntry(use: string, importFrom: string, conditions: readonly string[] = DEFAULT_CONDITIONS): string | undefined {
  if (isPathSpecifier(use)) {
    const path = use.startsWith('file:') ? new URL(use).pathname : resolve(importFrom, use);
    if (isDirectory(path)) return packageEntry(path, '.', conditions);
    for (const candidate of [path, `${path}.js`, `${path}.mjs`, `${path}.ts`]) if (existsSync(candidate) && !isDirectory(candidate)) return candidate;
    return undefined;
  }
  const parts = use.split('/');
  const nameLength = use.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.';
  for (const dir of ancestors(importFrom)) {
    const packageDir = join(dir, 'node_modules', name);
    if (isDirectory(packageDir)) return packageEntry(packageDir, subpath, conditions);
  }
  return undefined;
}

/** An installed provider package, found by its package.json keyword. */
export interface InstalledPlugin {
  name: string;
  version: string | undefined;
  dir: string;
}

/**
 * Lists packages reachable from `importFrom` (its `node_modules` and those above it) whose
 * package.json `keywords` contain `x-enrich-provider`. Used to say what is installed when a
 * plugin is not found; provider authors must include that keyword.
 */
export function listInstalledPlugins(importFrom: string): InstalledPlugin[] {
  const found = new Map<string, InstalledPlugin>();
  const consider = (dir: string) => {
    const pkg = readPackageJson(dir);
    if (pkg?.name && Array.isArray(pkg.keywords) && pkg.keywords.includes(PROVIDER_KEYWORD) && !found.has(pkg.name)) {
      found.set(pkg.name, { name: pkg.name, version: pkg.version, dir });
    }
  };
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const dir of ancestors(importFrom)) {
    const modules = join(dir, 'node_modules');
    for (const entry of list(modules)) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@')) for (const scoped of list(join(modules, entry))) consider(join(modules, entry, scoped));
      else consider(join(modules, entry));
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** This copy of @x/core's package directory (from src/plugin or dist/plugin). */
export const CORE_PACKAGE_DIR = realpathSync(fileURLToPath(new URL('../..', import.meta.url)));

/** The real directory of package `name` as Node would find it from `from`, or undefined. */
function installedPackageDir(name: string, from: string): string | undefined {
  for (const dir of ancestors(from)) {
    const candidate = join(dir, 'node_modules', name);
    if (isDirectory(candidate)) return realpathSync(candidate);
  }
  return undefined;
}

/**
 * Where a plugin entry came from, and the copy of @x/core its imports resolve to when that is
 * not this one (a provider with its own node_modules, loaded by path).
 */
export function pluginSource(entry: string): PluginSource {
  const ownCore = installedPackageDir('@x/core', dirname(entry));
  return ownCore !== undefined && ownCore !== CORE_PACKAGE_DIR ? { entry, ownCore } : { entry };
}
