/**
 * The entry of dist/cli-script.cjs, the whole CLI as one classic script (scripts/bundle.mjs) that
 * dist/cli.js compiles with a V8 code cache (src/cli-loader.ts). Every `import()` of a module in
 * the bundle is evaluated only when it runs: `enrich` never evaluates fastify or the MCP SDK.
 */
export { main } from './cli.js';

/**
 * Plugins from outside get this core (dist/core.mjs reads it, src/core-hooks.ts points their
 * `@x/core` there): one core per process. A function, so that `--help` does not evaluate core.
 */
(globalThis as Record<symbol, unknown>)[Symbol.for('x-enrich.bundle.core')] = () => import('@x/core');

/**
 * The shipped plugins, by their file in dist/ (src/bundled-plugins.ts): the loader answers an
 * `import()` of that file with the bundle's copy, and dist/provider-*.mjs re-export it for anyone
 * else.
 */
export const shipped: Readonly<Record<string, () => Promise<unknown>>> = {
  'provider-virustotal-v3.mjs': () => import('@x/provider-virustotal-v3'),
  'provider-virustotal-v2.mjs': () => import('@x/provider-virustotal-v2'),
  'provider-http.mjs': () => import('@x/provider-http'),
};
(globalThis as Record<symbol, unknown>)[Symbol.for('x-enrich.bundle.shipped')] = shipped;
