import type { ObservableType } from '../contract/observable-type.js';
import type { Status } from '../contract/result-record.js';
import type { Lifecycle } from '../contract/manifest.js';
import type { CircuitStateName } from '../resilience/policies.js';
import type { QuotaSnapshot } from '../contract/rate-limit-store.js';

/**
 * Typed events for a host's metrics (Prometheus counters and histograms). Delivered
 * synchronously through `onEvent`; a throwing handler is ignored.
 */
export type EnricherEvent =
  /** One record produced for an instance (also for cache hits). */
  | { type: 'lookup'; instance: string; observableType: ObservableType; status: Status; cacheHit: boolean; durationMs: number; errorCode?: string }
  /** One call into the provider (an attempt; a batch counts once with its size). */
  | { type: 'upstream'; instance: string; durationMs: number; ok: boolean; batchSize: number; errorCode?: string; httpStatus?: number }
  /** One HTTP request sent by the instance's HttpClient. */
  | { type: 'http'; instance: string; method: string; status: number | undefined; durationMs: number; errorCode?: string }
  | { type: 'retry'; instance: string; attempt: number; delayMs: number; errorCode?: string }
  | { type: 'circuit'; instance: string; state: CircuitStateName }
  | { type: 'timeout'; instance: string }
  | { type: 'bulkhead_rejected'; instance: string }
  /** A request waited for rate-limit budget. */
  | { type: 'rate_limit_wait'; instance: string; waitedMs: number };

/** Counters per provider instance, from `enricher.stats()`. */
export interface InstanceStats {
  /** Records for supported observables (cache hits and skipped lookups included). */
  lookups: number;
  /** Records served from the cache (another process's entry, read after a coalesced wait, included). */
  cacheHits: number;
  /** Lookups that joined an identical lookup already in flight instead of calling upstream. */
  coalesced: number;
  /** Calls into the provider (each attempt; a batch counts once). */
  upstreamCalls: number;
  /** Error records by code. */
  errors: Record<string, number>;
  retries: number;
  timeouts: number;
  bulkheadRejections: number;
  circuitState: CircuitStateName;
  /** Total time requests spent waiting for rate-limit budget (ms), summed over concurrent requests. */
  quotaWaitMs: number;
  /** Wall-clock time (ms) during which at least one request waited for budget, the current wait included. */
  quotaBlockedMs: number;
  /** Requests waiting for rate-limit budget right now. */
  waitingForQuota: number;
  /**
   * The rate-limit budget as last known, without asking the store: remaining per window (from
   * the store's answer to the last grant, settle or refusal), when the spent part frees and the
   * other participants' demand (after `expectLookups`). Absent when the instance is unlimited.
   */
  quota?: QuotaSnapshot;
}

export type EnricherStats = Record<string, InstanceStats>;

/** What `providers()` says about each instance. */
export interface ProviderInfo {
  name: string;
  plugin: string;
  packageName: string;
  version: string;
  displayName: string;
  types: ObservableType[];
  lifecycle: Lifecycle;
  circuitState: CircuitStateName;
  /** Remaining budget per configured window (empty when unlimited). */
  /** `freesInMs`: when the spent part of the window starts to come back, if the store can tell. */
  rateLimit: Array<{ requests: number; perMs: number; remaining: number; freesInMs?: number }>;
  batch: { maxSize: number; maxWaitMs: number } | null;
}
