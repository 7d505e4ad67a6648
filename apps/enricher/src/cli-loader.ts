/**
 * dist/cli.js, the entry of the bundled CLI: compiles the CLI (dist/cli-script.cjs, one classic
 * script) through a V8 code cache kept in the user cache directory, then runs it (issue 16, cold
 * start; docs/performance.md "Cold start: the V8 code cache"). Small on purpose: it is compiled
 * on every start without a cache. CommonJS (dist/package.json says so): a cached `enrich` then
 * never starts Node's ES module loader, ~17 ms of CPU on this machine.
 *
 * X_ENRICH_CODE_CACHE=off (or 0, false, no) compiles without the cache.
 */
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import envPaths from 'env-paths';
import { compileWithCodeCache, saveAtExitOrBeforeFlush } from './code-cache.js';
import { COMMAND_NAMES } from './command-names.js';

/** Set by scripts/bundle.mjs: the script's file name in dist/ and its content hash. */
declare const X_ENRICH_SCRIPT: { file: string; hash: string };

interface ScriptExports {
  main(argv: readonly string[]): Promise<unknown>;
  shipped: Readonly<Record<string, () => Promise<unknown>>>;
}

const dist = __dirname;
const filename = join(dist, X_ENRICH_SCRIPT.file);
const off = /^(0|off|false|no)$/i.test(process.env.X_ENRICH_CODE_CACHE ?? '');
// Beside the file cache (which only touches its own *.json files at the top level).
const dir = off ? undefined : join(envPaths('x-enrich', { suffix: '' }).cache, 'code-cache');
const command = process.argv.slice(2).find((arg) => COMMAND_NAMES.includes(arg)) ?? 'none';

/**
 * The script's function. Node 20 maps stack traces to the sources (`--enable-source-maps`,
 * dist/cli-script.cjs.map) for CommonJS modules but not for `vm.Script`: with source maps on, the
 * script is compiled as a module instead, without the cache.
 */
function compile(): (...args: unknown[]) => void {
  // latin1: the build checks that the script is ASCII (esbuild escapes the rest), and a one-byte
  // decode of its 2.9 MB is cheaper than UTF-8's.
  const source = readFileSync(filename, 'latin1');
  if (process.sourceMapsEnabled) {
    const compiler = new Module(filename) as Module & { _compile(code: string, filename: string): void };
    // On the script's first line (the wrapper's opening), so the map's lines stay right.
    compiler._compile(`module.exports = ${source}`, filename);
    return compiler.exports as (...args: unknown[]) => void;
  }
  const compiled = compileWithCodeCache({ source, filename, key: X_ENRICH_SCRIPT.hash, dir, variant: command });
  // At exit, or earlier in a long run, before V8 flushes the start-up code from memory.
  saveAtExitOrBeforeFlush(compiled);
  return compiled.script.runInThisContext() as (...args: unknown[]) => void;
}

const script = { exports: {} as ScriptExports };
let shippedByUrl: Map<string, string> | undefined;
/**
 * `import()` for the script: Node 20 drops a script's own dynamic-import callback when it is
 * compiled from cachedData ("A dynamic import callback was not specified"), so the bundle calls
 * this instead, which resolves like any module in dist/. A shipped plugin comes from the bundle.
 */
const importModule = (specifier: string): Promise<unknown> => {
  shippedByUrl ??= new Map(Object.keys(script.exports.shipped).map((file) => [pathToFileURL(join(dist, file)).href, file]));
  const shipped = shippedByUrl.get(specifier);
  return shipped === undefined ? import(specifier) : script.exports.shipped[shipped]!();
};
// The script's `import.meta` (the app's paths, src/app-dir.ts) and `require` are this file's: both in dist/.
const meta = { url: pathToFileURL(__filename).href, filename: __filename, dirname: dist };
compile()(script.exports, createRequire(__filename), script, filename, dist, meta, importModule);
// A rejection is reported as an uncaught error (exit 1), as a top-level await's would be.
void script.exports.main(process.argv);
