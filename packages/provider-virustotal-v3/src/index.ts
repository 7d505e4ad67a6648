/**
 * @x/provider-virustotal-v3: the VirusTotal API v3 provider for x-enrich.
 * The default export is the plugin. Besides it, what a host needs to configure an instance in
 * code: the options schema and its types, the malice-rule presets and rule types, and the
 * extract groups. Everything else (the client, the mapping, the provider class) is private:
 * hosts load the plugin, they do not call its pieces.
 */
export { plugin as default, plugin, manifest } from './plugin.js';
export { zVirusTotalV3Options } from './options.js';
export type { VirusTotalV3Options, VirusTotalV3OptionsInput } from './options.js';
export { DEFAULT_MALICE_RULES, GTI_PREFERRED_MALICE_RULES, MALICE_RULE_PRESETS, zMaliceRules } from './malice-rules.js';
export type { MaliceRule, MaliceRulePreset, RuleCondition, RuleField, RuleOperator } from './malice-rules.js';
export { EXTRACT_GROUPS } from './depth.js';
export type { ExtractGroup } from './depth.js';
