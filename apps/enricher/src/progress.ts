import { estimateBatchMs, formatDuration } from '@x/core';

/** A provider instance's rate-limit windows with the budget left in each. */
export interface InstanceBudget {
  name: string;
  windows: ReadonlyArray<{ requests: number; perMs: number; remaining: number }>;
}

/**
 * How long `lookups` new upstream requests take under these windows, starting with the budget
 * that is left: core's `estimateBatchMs`, shared with hosts. With 4 per minute and a full
 * budget, 100 lookups need 24 minutes.
 */
export function minimumTimeMs(lookups: number, windows: InstanceBudget['windows']): number {
  return estimateBatchMs({ lookups, windows });
}

/** The slowest instance for `lookups` new lookups and the window that holds it back, or undefined when no limit matters. */
export function slowestInstance(lookups: number, budgets: readonly InstanceBudget[]): { name: string; ms: number; window: { requests: number; perMs: number } } | undefined {
  let slowest: { name: string; ms: number; window: { requests: number; perMs: number } } | undefined;
  for (const budget of budgets) {
    for (const window of budget.windows) {
      const ms = minimumTimeMs(lookups, [window]);
      if (ms > 0 && (!slowest || ms > slowest.ms)) slowest = { name: budget.name, ms, window: { requests: window.requests, perMs: window.perMs } };
    }
  }
  return slowest;
}

/** The sentence printed before a long run, or undefined when the rate limits do not matter. */
export function upfrontEstimate(total: number, budgets: readonly InstanceBudget[]): string | undefined {
  const slowest = slowestInstance(total, budgets);
  if (!slowest || slowest.ms < 60_000) return undefined;
  const { requests, perMs } = slowest.window;
  return (
    `${total} observables; ${slowest.name} allows ${requests} lookups per ${formatDuration(perMs)}, ` +
    `so uncached ones may take up to ${humanDuration(slowest.ms)} (cache hits are free). Ctrl-C stops cleanly.`
  );
}

export interface EtaInput {
  total: number;
  done: number;
  elapsedMs: number;
  /** Lookups that went upstream so far (not served by the cache). */
  misses: number;
  lookupsDone: number;
  budgets: readonly InstanceBudget[];
}

/**
 * Remaining time: the larger of the observed pace and what the rate limits allow for the
 * lookups still expected to miss the cache (at the miss ratio seen so far).
 */
export function estimateRemainingMs(input: EtaInput): number | undefined {
  const remaining = input.total - input.done;
  if (remaining <= 0) return 0;
  if (input.done === 0) return Math.max(0, ...input.budgets.map((budget) => minimumTimeMs(remaining, budget.windows))) || undefined;
  const pace = (input.elapsedMs / input.done) * remaining;
  const missRatio = input.lookupsDone > 0 ? input.misses / input.lookupsDone : 1;
  const expectedMisses = Math.ceil(remaining * missRatio);
  const limited = Math.max(0, ...input.budgets.map((budget) => minimumTimeMs(expectedMisses, budget.windows)));
  return Math.max(pace, limited);
}

/** `0.4s`, `45s`, `24m`, `1h05m`, `2d03h`: coarse, for people. */
export function humanDuration(ms: number): string {
  if (ms < 9_950) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`;
}

export function formatEta(ms: number | undefined): string {
  if (ms === undefined) return '?';
  return ms < 10_000 ? `${Math.ceil(ms / 1000)}s` : humanDuration(ms);
}
