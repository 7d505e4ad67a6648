/**
 * @x/enricher as a library: the pieces of the `x-enrich` app a host may reuse. The CLI is
 * `dist/cli.js`; everything not exported here is private.
 */
export { zAppConfig, zServerConfig, loadAppConfig, type AppConfig, type ServerConfig } from './app-config.js';
export { ExitCode, runExitCode } from './exit-codes.js';
export { reachesFailOn, type FailOn } from './fail-on.js';
export { createFormatter, OUTPUT_FORMATS, isOutputFormat, type OutputFormat, type OutputFormatter, type EnrichedItem, type RunFooter } from './output/formats.js';
export { buildStixBundle, observableToSco, stixPattern, type StixBundle, type StixObject } from './output/stix.js';
export { formatTable } from './output/table.js';
export { formatCsv, CSV_COLUMNS } from './output/csv.js';
export { formatJsonl } from './output/jsonl.js';
export { buildServer, type ServerAppOptions, type ErrorBody } from './server/app.js';
export { createServiceMetrics, type ServiceMetrics } from './server/metrics.js';
export { buildStores, defaultCacheDir, type AppStores } from './stores.js';
export { openEnricher, type OpenedEnricher } from './open-enricher.js';
