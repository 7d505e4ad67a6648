export { startSimulator, type Simulator } from './server.js';
export {
  DEFAULT_API_KEY,
  parseQuota,
  parseFaults,
  zFaults,
  zQuotaWindow,
  zSimulatorOptions,
  zFixture,
  zDepthControl,
  type DepthControlInput,
  type Faults,
  type FaultsInput,
  type Fixture,
  type QuotaWindow,
  type SimulatorOptions,
  type SimulatorOptionsInput,
} from './options.js';
export {
  observableFor,
  outcomeObservables,
  reservedOutcome,
  seededOutcome,
  OUTCOME_TABLE,
  DEFAULT_FILE_TOTAL,
  DEFAULT_URL_TOTAL,
  type Outcome,
  type OutcomeName,
  type OutcomeRequest,
  type OutcomeStatus,
  type SimObservableType,
} from './outcome.js';
export { canonicalUrl, urlBase64Id, urlSha256, type ObjectKind } from './observables.js';
export { keyFingerprint, type SimulatorStats } from './stats.js';
export { V2_MESSAGES } from './generate.js';
export { RELATIONSHIPS, DEFAULT_LIMIT as RELATIONSHIP_DEFAULT_LIMIT, MAX_LIMIT as RELATIONSHIP_MAX_LIMIT } from './relationships.js';
export type { DepthControl, GtiVerdict, SandboxCategory, Severity } from './extras.js';
export { MAX_TOTAL } from './engines.js';
