/**
 * @x/provider-virustotal-v2: the End-of-Life VirusTotal API v2 provider for x-enrich.
 * The default export is the plugin; the rest is exported for hosts and tests that want the
 * pure pieces (options schema, infection-rate rules, report mapping).
 */
export { plugin as default, plugin, manifest, DOCS_URL } from './plugin.js';
export { zVirusTotalV2Options, DEFAULT_API_URL, PUBLIC_BATCH_SIZE, PRIVATE_BATCH_SIZE_MAX } from './options.js';
export type { VirusTotalV2Options, VirusTotalV2OptionsInput, InfectionRateThresholds } from './options.js';
export { infectionRate, confidenceForRate, assessInfection, formatRate } from './infection-rate.js';
export type { DetectionRatio, InfectionAssessment } from './infection-rate.js';
export { mapV2Report, reportKindFor, detectionNames, worstDetectedUrl, splitBatchAnswer, toIsoDate } from './mapping.js';
export type { V2ReportKind } from './mapping.js';
export { VirusTotalV2Client, virusTotalV2Upstream } from './client.js';
export { VirusTotalV2Provider } from './provider.js';
