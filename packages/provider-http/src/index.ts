/**
 * @x/provider-http: a provider defined entirely in the config file. See docs/providers/http.md.
 */
export { plugin as default, plugin, manifest } from './plugin.js';
export { zHttpProviderOptions, zHttpDefinition, type HttpProviderOptions } from './options.js';
export { RECIPES, type RecipeName } from './recipes/index.js';
