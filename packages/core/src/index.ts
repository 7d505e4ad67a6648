/**
 * @x/core public surface. Everything not exported here is private.
 * Sections are grouped by role; keep additions inside their section.
 */
import './contract/reflect-metadata.js';

// --- Observables -----------------------------------------------------------
export * from './contract/observable-type.js';
export * from './observable/parse-observable.js';
export { defang, refang } from './observable/refang.js';

// --- Result model ----------------------------------------------------------
export * from './contract/result-record.js';

// --- Plugin contract and DI -----------------------------------------------
export { zLifecycle, zProviderManifest, zRateLimitWindow, type Lifecycle, type ProviderManifest, type ProviderManifestInput, type RateLimitWindow } from './contract/manifest.js';
export * from './contract/provider.js';
export * from './plugin/loaded-provider.js';
export { assertUniqueProviderNames, loadProviders, prepareProvider, type LoadProvidersOptions, type PrepareProviderOptions, type ProviderWarning } from './plugin/loader.js';
export { resolvePluginEntry, PROVIDER_KEYWORD } from './plugin/resolve-plugin.js';
export { CORE_VERSION } from './version.js';
export * from './contract/tokens.js';
export { construct, type InjectableClass, type TokenResolver } from './di/construct.js';
export { createContainer } from './plugin/register-provider.js';

// --- Errors and logging ----------------------------------------------------
export * from './contract/error-codes.js';
export * from './contract/x-enrich-error.js';
export * from './contract/logger.js';
export { createRedactingLogger } from './logging/redacting-logger.js';

// --- Stores ------------------------------------------------------------------
export * from './contract/cache-store.js';
export * from './contract/rate-limit-store.js';
export type { SharedStores, SharedStoresStats, SharedStoresStatus } from './contract/shared-stores.js';
export { defaultCacheDir, defaultRateLimitDir, openStores, type OpenedStores, type OpenStoresOptions, type SharedStoreHealth, type SharedStoreSettings } from './stores/open-stores.js';

// --- Config --------------------------------------------------------------------
export * from './contract/duration.js';
export { createSecretScrubber, isSecretSchema, redactUrlCredentials, REDACTED, secret, type SecretScrubber } from './contract/secret.js';
export * from './config/config-schema.js';
export { configSectionJsonSchema, type JsonSchemaObject } from './config/config-json-schema.js';
export { configJsonSchema, loadConfigFile, parseConfig, type LoadConfigFileOptions, type ParseConfigOptions } from './config/load-config.js';
export { collectSecrets, redactConfig, type ProviderSecrets } from './config/redact.js';
export { renderProviderOptionsTable } from './config/config-reference.js';

// --- Rate limits and caches (core-B) -------------------------------------------
export { createMemoryRateLimitStore } from './rate-limit/memory-rate-limit-store.js';
export { createRateLimiter, type RateLimiterOptions } from './rate-limit/rate-limiter.js';
export { createFileRateLimitStore, type FileRateLimitStoreOptions } from './rate-limit/file-rate-limit-store.js';
export * from './rate-limit/estimate.js';
export { createMemoryCacheStore, type MemoryCacheStoreOptions } from './cache/memory-cache-store.js';
export * from './cache/file-cache-store.js';
export { cacheKey } from './cache/cache-key.js';

// --- HTTP (core-B) -----------------------------------------------------------------
export { createHttpClient, type HttpClientOptions } from './http/http-client.js';
export { isLoopbackHost } from './http/loopback.js';
export { parseJsonWithout } from './http/json-without.js';
export type {
  HttpCallInfo,
  HttpClient,
  StatusRule,
  UpstreamAuth,
  UpstreamCallContext,
  UpstreamClient,
  UpstreamDefinition,
  UpstreamErrorBody,
  UpstreamQuery,
  UpstreamRequest,
  UpstreamRequestOptions,
  UpstreamResponse,
} from './http/upstream.js';

// --- Engine (core-B) ----------------------------------------------------------------
export * from './engine/enricher.js';
export type { EnricherEvent, EnricherStats, InstanceStats, ProviderInfo } from './engine/events.js';
export { createResiliencePolicies, type CircuitStateName, type ResiliencePolicies, type PolicyHooks } from './resilience/policies.js';
export * from './engine/from-config.js';

// --- Result JSON Schema (core-B) ----------------------------------------------------
export { resultRecordJsonSchema } from './result/result-json-schema.js';
