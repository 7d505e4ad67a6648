import { estimateBatchMs, formatDuration, windowsAt, type EnricherStats, type EstimateWindow } from '@x/core';

/** A provider instance's rate-limit windows with the budget left in each, and who else spends it. */
export interface InstanceBudget {
  name: string;
  windows: readonly EstimateWindow[];
  /** The outstanding demands of the others sharing this budget (other processes, a quota group). */
  sharedWith?: readonly number[];
  /** This process's fair share of the budget while others publish a demand (`QuotaSnapshot.share`). */
  share?: EstimateWindow;
  /** Requests granted and not answered yet (`QuotaSnapshot.inFlight`): their lookups are not done, but their budget is spent. */
  inFlight?: number;
}

/**
 * How long `lookups` new upstream requests take under these windows, starting with the budget
 * that is left: core's `estimateBatchMs`, shared with hosts. With 4 per minute and a full
 * budget, 100 lookups need 24 minutes.
 */
export function minimumTimeMs(lookups: number, windows: InstanceBudget['windows'], sharedWith?: readonly number[], share?: EstimateWindow): number {
  return estimateBatchMs({ lookups, windows, ...(sharedWith ? { sharedWith } : {}), ...(share ? { share } : {}) });
}

/**
 * The selected instances' budgets from the engine's synchronous stats (the quota as last known:
 * remaining, when the spent part frees, as of `now`, and the others' demand), so the up-front
 * estimate and the ETA read the same numbers.
 */
export function budgetsFromStats(stats: EnricherStats, now: number, only?: readonly string[]): InstanceBudget[] {
  const budgets: InstanceBudget[] = [];
  for (const [name, instance] of Object.entries(stats)) {
    if (only && !only.includes(name)) continue;
    const quota = instance.quota;
    budgets.push(quota ? { name, windows: windowsAt(quota, now), sharedWith: quota.othersDemand, inFlight: quota.inFlight, ...(quota.share ? { share: quota.share } : {}) } : { name, windows: [] });
  }
  return budgets;
}

/** How many others sharing this budget have published a demand (other runs, a quota group's other instances). */
function othersSharing(budget: InstanceBudget): number {
  return (budget.sharedWith ?? []).filter((units) => units > 0).length;
}

/** The most others any of these budgets is shared with, as published in the store (0: alone, as far as this run knows). */
export function othersSeen(budgets: readonly InstanceBudget[]): number {
  return Math.max(0, ...budgets.map(othersSharing));
}

/** The slowest instance for `lookups` new lookups, the window that holds it back and how many others it shares the budget with; undefined when no limit matters. */
export function slowestInstance(lookups: number, budgets: readonly InstanceBudget[]): { name: string; ms: number; window: { requests: number; perMs: number }; sharing: number } | undefined {
  let slowest: { name: string; ms: number; window: { requests: number; perMs: number }; sharing: number } | undefined;
  for (const budget of budgets) {
    for (const window of budget.windows) {
      const ms = minimumTimeMs(lookups, [window], budget.sharedWith, budget.share);
      if (ms > 0 && (!slowest || ms > slowest.ms)) slowest = { name: budget.name, ms, window: { requests: window.requests, perMs: window.perMs }, sharing: othersSharing(budget) };
    }
  }
  return slowest;
}

/**
 * The sentence printed before a long run, or undefined when the rate limits do not matter.
 *
 * It says what it knows. Made as the run starts, it counts only the others that have already
 * published a demand in the rate-limit store: a run started at the same moment as others sees
 * none of them yet (they publish within their first second). So with nobody seen it says the
 * time *with the budget to itself*, a lower bound when others share the key (their demand is
 * added to the progress bar's ETA within a second of their publishing it); with others seen, how
 * many it shares the budget with. It never claims the fleet's figure it cannot know.
 */
export function upfrontEstimate(total: number, budgets: readonly InstanceBudget[]): string | undefined {
  const slowest = slowestInstance(total, budgets);
  if (!slowest || slowest.ms < 60_000) return undefined;
  const { requests, perMs } = slowest.window;
  const context =
    slowest.sharing > 0
      ? `sharing the budget with ${slowest.sharing} other ${slowest.sharing === 1 ? 'run' : 'runs'} (cache hits are free; the ETA follows their progress)`
      : `with the budget to itself (cache hits are free; other runs spending it add to this, and the ETA counts them)`;
  return `${total} observables; ${slowest.name} allows ${requests} lookups per ${formatDuration(perMs)}, so uncached ones need about ${humanDuration(slowest.ms)} ${context}. Ctrl-C stops cleanly.`;
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

/** The lookups still expected to go upstream: the remaining inputs at the miss ratio seen so far (all of them before the first answer). */
export function expectedMisses(input: Pick<EtaInput, 'total' | 'done' | 'misses' | 'lookupsDone'>): number {
  const remaining = Math.max(0, input.total - input.done);
  const missRatio = input.lookupsDone > 0 ? input.misses / input.lookupsDone : 1;
  return Math.ceil(remaining * missRatio);
}

/**
 * Remaining time: what the rate limits allow for the lookups still expected to miss the cache
 * (core's `estimateBatchMs` over the budget as last known, the same estimate as the up-front
 * one, counting the demand of the others sharing the budget); when no limit binds, the
 * observed pace.
 */
export function estimateRemainingMs(input: EtaInput): number | undefined {
  const remaining = input.total - input.done;
  if (remaining <= 0) return 0;
  const misses = expectedMisses(input);
  // Lookups granted budget but not answered yet are not done, yet need no budget: counted again,
  // a progress line taken mid-wave (4 of 8 answered) said a whole window too much (+49 %).
  const limited = Math.max(0, ...input.budgets.map((budget) => minimumTimeMs(Math.max(0, misses - (budget.inFlight ?? 0)), budget.windows, budget.sharedWith, budget.share)));
  // While a limit binds, it is the estimate: the pace so far includes waits for budget that
  // other processes spent, and the first wave answered at once, so it says little of what is left.
  if (limited > 0) return limited;
  if (input.done === 0) return undefined;
  return (input.elapsedMs / input.done) * remaining;
}

/**
 * The run's ETA from the live lookup counts (one per observable x instance, in any order), as
 * the progress bar shows it and the `progress` debug line logs it: one function, so what the
 * benchmark measures is what the user sees.
 */
export function runEta(counts: { lookups: number; cacheHits: number }, run: { total: number; instances: number; elapsedMs: number; budgets: readonly InstanceBudget[] }): { done: number; etaMs: number | undefined } {
  const done = Math.floor(counts.lookups / Math.max(1, run.instances));
  const etaMs = estimateRemainingMs({ total: run.total, done, elapsedMs: run.elapsedMs, misses: counts.lookups - counts.cacheHits, lookupsDone: counts.lookups, budgets: run.budgets });
  return { done, etaMs };
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
