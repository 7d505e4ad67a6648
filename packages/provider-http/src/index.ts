/**
 * @x/provider-http: a provider defined entirely in the config file. See docs/providers/http.md.
 */
export { plugin as default, plugin, manifest, DOCS_URL } from './plugin.js';
export { HttpProvider } from './provider.js';
export { zHttpProviderOptions, zHttpDefinition, type HttpProviderOptions } from './options.js';
export { RECIPES, type RecipeName } from './recipes/index.js';
