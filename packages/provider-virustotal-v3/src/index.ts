/**
 * @x/provider-virustotal-v3: the VirusTotal API v3 provider for x-enrich.
 * The default export is the plugin; the rest is exported for hosts and tests that want the
 * pure pieces (options schema, malice rules, v3 object mapping).
 */
export { plugin as default, plugin, manifest, DOCS_URL } from './plugin.js';
export { zVirusTotalV3Options, DEFAULT_BASE_URL, isLoopbackHost } from './options.js';
export type { VirusTotalV3Options, VirusTotalV3OptionsInput } from './options.js';
export {
  zMaliceRule,
  zMaliceRules,
  zRuleCondition,
  zMaliceRulesOption,
  DEFAULT_MALICE_RULES,
  GTI_PREFERRED_MALICE_RULES,
  MALICE_RULE_PRESETS,
  FIELD_KINDS,
  OPERATORS_BY_KIND,
  RULE_OPERATORS,
  evaluateMaliceRules,
  conditionHolds,
  formatCondition,
  ruleId,
} from './malice-rules.js';
export type { MaliceRule, MaliceRulePreset, RuleCondition, RuleDecision, RuleField, RuleOperator, FieldKind, RuleFields } from './malice-rules.js';
export { EXTRACT_GROUPS, V3_RELATIONSHIPS, ALL_RELATIONSHIPS, relationshipsFor, ruleFacts, groupFields, relatedEntities, relatedObservable } from './depth.js';
export type { ExtractGroup, RelatedRef, V3ObjectType } from './depth.js';
export { mapV3Object, cleanNote, extractFields, lookupFor, urlIdentifier, unixToIso, popularThreatName, parseV3Object, parseV3Error, threatEntities } from './mapping.js';
export type { DepthMapping, V3Collection, V3Lookup, V3Object } from './mapping.js';
export { fetchRelatedObjects, requestReanalysis } from './depth-requests.js';
export { VirusTotalV3Client, virusTotalV3Upstream } from './client.js';
export type { V3LookupAnswer } from './client.js';
export { VirusTotalV3Provider } from './provider.js';
