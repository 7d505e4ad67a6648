// `pnpm build` of the app: the CLI as one bundle in dist/ (esbuild), compiled through a V8 code
// cache (issue 16, cold start; docs/performance.md "Cold start: the V8 code cache").
//
// - dist/cli-script.cjs is the whole CLI as ONE classic script (esbuild's `cjs` format): Node 20
//   has a code cache only for classic scripts (`vm.Script` with `cachedData`). Each command is
//   still imported only when it runs: esbuild wraps every lazily imported module, which is then
//   evaluated on first import, so `enrich` never evaluates fastify, the MCP SDK, ajv or the scaffolder.
// - dist/cli.js (src/cli-loader.ts, CommonJS: dist/package.json) compiles that script with the
//   cache kept in the user cache directory, keyed by the script's content hash.
// - @x/core and every third-party module are bundled (tsc output of the packages, exactly what
//   library users run). dist/core.mjs re-exports the script's core, and dist/core-hooks.mjs points
//   `@x/core` of plugins from outside at it: one core per process (src/bundled-plugins.ts).
// - The plugins the app ships are in the script; dist/provider-*.mjs re-export them (the loader
//   answers an import of those files from the script directly).
// - Every file lands directly in dist/, so `new URL('..', import.meta.url)` (src/app-dir.ts) is
//   the app's directory.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The plugins the bundle carries: dist file name by package (src/bundled-plugins.ts and src/cli-script.ts list the same). */
export const BUNDLED_PLUGINS = {
  '@x/provider-virustotal-v3': 'provider-virustotal-v3.mjs',
  '@x/provider-virustotal-v2': 'provider-virustotal-v2.mjs',
  '@x/provider-http': 'provider-http.mjs',
};

/**
 * Module-relative code in the workspace packages that a bundle must see differently. Each rewrite
 * must match (the build fails otherwise), so a change in a package cannot silently break the CLI.
 * - `createRequire(import.meta.url)('x')` (CommonJS loaded with require for start-up speed, and
 *   package.json versions) becomes a plain `require('x')`, which esbuild bundles.
 * - `const r = createRequire(import.meta.url)` with later `r('x')` calls, likewise.
 * - core's own package directory (to tell a plugin with another copy of core) is the app's: the
 *   bundle's core lives there. Plugins from outside get that copy anyway (src/core-hooks.ts).
 */
const REWRITES = [
  { file: /packages\/core\/dist\/plugin\/resolve-plugin\.js$/, from: "new URL('../..', import.meta.url)", to: "new URL('..', import.meta.url)" },
];

/**
 * Third-party modules a cached `enrich` loads only to run a few lines of: what they require at
 * their top level for a feature the CLI does not use on that path is required on first use
 * instead (issue 16: each drags in Node built-ins that are compiled on every start). Each rewrite
 * must match, like REWRITES.
 * - commander requires node:child_process (and with it net and dgram) for executable
 *   subcommands, which x-enrich does not have; only `spawn` is called.
 * - pino requires its worker-thread transport (thread-stream) for `pino.transport()` and the
 *   `transport` option; x-enrich's logger writes to a stream.
 * - pino requires node:worker_threads for `isMainThread`, read only when it builds an asynchronous
 *   SonicBoom (`pino.destination({ sync: false })`), and sonic-boom requires node:assert for one
 *   check when a destination closes: together ~10 built-in modules (the worker, its messaging,
 *   error serialisation, assert's internals) that a cached `enrich` compiled at every start.
 */
const LAZY_REQUIRES = [
  {
    file: /[\\/]commander[\\/]lib[\\/]command\.js$/,
    from: "const childProcess = require('node:child_process');",
    to: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
  },
  {
    file: /[\\/]pino[\\/]pino\.js$/,
    from: "module.exports.transport = require('./lib/transport')",
    to: "Object.defineProperty(module.exports, 'transport', { get: () => require('./lib/transport'), enumerable: true, configurable: true })",
  },
  {
    file: /[\\/]pino[\\/]lib[\\/]tools\.js$/,
    from: "const transport = require('./transport')",
    to: "const transport = (...args) => require('./transport')(...args)",
  },
  {
    file: /[\\/]pino[\\/]lib[\\/]tools\.js$/,
    from: "const { isMainThread } = require('worker_threads')",
    to: "const workerThreads = () => require('worker_threads')",
  },
  {
    file: /[\\/]pino[\\/]lib[\\/]tools\.js$/,
    from: 'if (!opts.sync && isMainThread) {',
    to: 'if (!opts.sync && workerThreads().isMainThread) {',
  },
  {
    file: /[\\/]sonic-boom[\\/]index\.js$/,
    from: "const assert = require('assert')",
    to: "const assert = (...args) => require('assert')(...args)",
  },
];

export const workspacePackages = {
  name: 'x-enrich-workspace-packages',
  setup(build) {
    const matched = new Set();
    build.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/].*\.js$/ }, async (args) => {
      const path = args.path.replaceAll('\\', '/');
      let text = await readFile(args.path, 'utf8');
      for (const rewrite of REWRITES) {
        if (!rewrite.file.test(path)) continue;
        if (!text.includes(rewrite.from)) throw new Error(`bundle: ${path} no longer contains ${rewrite.from}; update scripts/bundle.mjs`);
        text = text.replace(rewrite.from, rewrite.to);
        matched.add(rewrite);
      }
      text = text.replace(/createRequire\(import\.meta\.url\)\(/g, 'require(');
      for (const [, name] of text.matchAll(/const (\w+) = createRequire\(import\.meta\.url\);\n/g)) {
        text = text.replace(`const ${name} = createRequire(import.meta.url);\n`, '');
        if (name !== 'require') text = text.replace(new RegExp(`\\b${name}\\(`, 'g'), 'require(');
      }
      if (/createRequire\(import\.meta\.url\)/.test(text)) throw new Error(`bundle: ${path} uses createRequire in a way scripts/bundle.mjs does not rewrite`);
      return { contents: text, loader: 'js' };
    });
    // core's package.json lists only its index as having side effects; this module installs the
    // Reflect polyfill tsyringe needs, and its bare imports must stay.
    build.onResolve({ filter: /[\\/]reflect-metadata\.js$/ }, (args) => ({ path: resolve(args.resolveDir, args.path), sideEffects: true }));
    // zod re-exports its ~40 translations (z.locales.*) from its index, and a namespace object
    // cannot be tree-shaken: ~250 KB that every start would parse. Nothing in the bundle changes
    // zod's locale (its English default is registered by the schemas module), so the bundle's zod
    // carries English only. Plugins loaded from outside import their own zod, untouched.
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: "export { default as en } from './en.js';", loader: 'js' }));
    build.onEnd((result) => {
      if (result.errors.length > 0) return;
      for (const rewrite of REWRITES) if (!matched.has(rewrite)) throw new Error(`bundle: no file matched ${rewrite.file}; update scripts/bundle.mjs`);
    });
  },
};

/** LAZY_REQUIRES as an esbuild plugin (exported for test/bundle-script.test.ts). */
export const lazyRequires = {
  name: 'x-enrich-lazy-requires',
  setup(build) {
    const matched = new Set();
    build.onLoad({ filter: /[\\/](commander[\\/]lib[\\/]command|pino[\\/]pino|pino[\\/]lib[\\/]tools|sonic-boom[\\/]index)\.js$/ }, async (args) => {
      let text = await readFile(args.path, 'utf8');
      for (const rewrite of LAZY_REQUIRES) {
        if (!rewrite.file.test(args.path)) continue;
        if (!text.includes(rewrite.from)) throw new Error(`bundle: ${args.path} no longer contains ${rewrite.from}; update scripts/bundle.mjs`);
        text = text.replace(rewrite.from, rewrite.to);
        matched.add(rewrite);
      }
      return { contents: text, loader: 'js' };
    });
    build.onEnd((result) => {
      if (result.errors.length > 0) return;
      for (const rewrite of LAZY_REQUIRES) if (!matched.has(rewrite)) throw new Error(`bundle: no file matched ${rewrite.file}; update scripts/bundle.mjs`);
    });
  },
};

/** The whole CLI as one classic script, compiled by dist/cli.js through a V8 code cache (src/cli-loader.ts). */
const SCRIPT_FILE = 'cli-script.cjs';

/**
 * `import()` with a specifier known only at run time (a plugin, the scaffold's options template)
 * stays an `import()` in esbuild's output, and a script compiled from a code cache has no
 * dynamic-import callback on Node 20: it calls the loader's `__xEnrichImport` instead. Literal
 * specifiers (`import('./commands/enrich.js')`) are bundled by esbuild and never get here.
 */
function callLoaderImport(code) {
  return code.replace(/(?<![\w$.])import\(/g, '__xEnrichImport(');
}

/** A module in dist/ that re-exports, by name, a module the script publishes on `globalThis` (plugins from outside import these). */
async function reexportModule(what, getter, specifier) {
  const names = Object.keys(await import(specifier));
  const named = names.filter((name) => name !== 'default');
  return [
    `// Generated by scripts/bundle.mjs: ${what}, from the CLI's bundle (${SCRIPT_FILE}), so the process has one copy.`,
    `const load = ${getter};`,
    `if (typeof load !== 'function') throw new Error('${what} exists only inside the x-enrich CLI (dist/cli.js); import ${specifier} instead');`,
    'const module = await load();',
    ...(names.includes('default') ? ['export default module.default;'] : []),
    ...(named.length > 0 ? [`export const { ${named.join(', ')} } = module;`] : []),
    '',
  ].join('\n');
}

export async function bundle({ outdir = join(APP, 'dist'), metafile = false } = {}) {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const common = {
    absWorkingDir: APP,
    bundle: true,
    platform: 'node',
    target: 'node20.19',
    // The packages' `exports` without the `@x/source` condition: their built dist, as users get it.
    conditions: ['import', 'node', 'default'],
    // Whitespace and syntax only: stack traces (X_ENRICH_DEBUG) keep their function names.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'linked',
    logLevel: 'warning',
  };
  // The script: CommonJS (esbuild's `cjs` format: no chunks, every lazily imported module is
  // wrapped and evaluated on first import), inside a function the loader calls with what a
  // CommonJS module gets, plus `import.meta` and `import()`.
  const script = await esbuild.build({
    ...common,
    entryPoints: { 'cli-script': join(APP, 'src', 'cli-script.ts') },
    outdir,
    outExtension: { '.js': '.cjs' },
    write: false,
    format: 'cjs',
    define: { X_ENRICH_BUNDLE: 'true', 'import.meta': '__xEnrichMeta' },
    banner: { js: '(function (exports, require, module, __filename, __dirname, __xEnrichMeta, __xEnrichImport) {' },
    footer: { js: '})' },
    // Served from its own package directory (static/): it must stay where npm installs it.
    // axios (and its ~300 KB of mime-db, form-data, follow-redirects) is required by core only
    // on the first upstream request; a cached run should not even parse it. A dependency of the
    // app too, so `require('axios')` from dist/ finds it in any install layout.
    external: ['@fastify/swagger-ui', 'axios'],
    plugins: [workspacePackages, lazyRequires],
    metafile,
  });
  let hash;
  for (const file of script.outputFiles) {
    let contents = file.contents;
    if (file.path.endsWith(SCRIPT_FILE)) {
      const code = callLoaderImport(file.text);
      // dist/cli.js reads it as latin1 (cheaper than UTF-8); esbuild's default `charset: 'ascii'` escapes anything else.
      if (/[^\p{ASCII}]/u.test(code)) throw new Error(`bundle: ${SCRIPT_FILE} is not ASCII; src/cli-loader.ts reads it as latin1`);
      hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
      contents = code;
    }
    await writeFile(file.path, contents);
  }
  // The entry (dist/cli.js, with the script's hash), CommonJS, and the module hooks, an ES module.
  const entry = await esbuild.build({
    ...common,
    entryPoints: { cli: join(APP, 'src', 'cli-loader.ts') },
    outdir,
    format: 'cjs',
    define: { X_ENRICH_SCRIPT: JSON.stringify({ file: SCRIPT_FILE, hash }) },
    metafile,
  });
  const hooks = await esbuild.build({ ...common, entryPoints: { 'core-hooks': join(APP, 'src', 'core-hooks.ts') }, outdir, outExtension: { '.js': '.mjs' }, format: 'esm', metafile });
  // The app's package is `"type": "module"`; dist/ is CommonJS, its ES modules are *.mjs.
  await writeFile(join(outdir, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
  await writeFile(join(outdir, 'core.mjs'), await reexportModule('dist/core.mjs', "globalThis[Symbol.for('x-enrich.bundle.core')]", '@x/core'));
  for (const [name, file] of Object.entries(BUNDLED_PLUGINS)) {
    await writeFile(join(outdir, file), await reexportModule(`dist/${file}`, `globalThis[Symbol.for('x-enrich.bundle.shipped')]?.[${JSON.stringify(file)}]`, name));
  }
  return { script, entry, hooks, hash };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
