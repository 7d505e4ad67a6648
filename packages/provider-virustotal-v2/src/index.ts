/**
 * @x/provider-virustotal-v2: the End-of-Life VirusTotal API v2 provider for x-enrich.
 * The default export is the plugin; besides it, the options schema and its types for hosts that
 * configure an instance in code. Everything else (client, mapping, infection-rate rules) is private.
 */
export { plugin as default, plugin, manifest } from './plugin.js';
export { zVirusTotalV2Options } from './options.js';
export type { VirusTotalV2Options, VirusTotalV2OptionsInput, InfectionRateThresholds } from './options.js';
