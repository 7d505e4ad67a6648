/** A rate-limit window with the budget left in it (what `RateLimiter.remaining()` reports). */
export interface EstimateWindow {
  requests: number;
  perMs: number;
  remaining: number;
}

export interface BatchEstimateInput {
  /** Lookups in the batch. */
  lookups: number;
  /** Of those, how many the cache will answer (they spend no budget). Default 0. */
  cached?: number;
  /** Upstream requests per uncached lookup (1, or less when lookups are batched: 1/batch size). Default 1. */
  requestsPerLookup?: number;
  /** The budget's windows with what is left in each; empty means unlimited. */
  windows: readonly EstimateWindow[];
  /**
   * Round trip of one upstream request (ms). A charge counts from the moment its answer comes
   * back, so each further window starts this much later. Default 0.
   */
  latencyMs?: number;
}

/**
 * How long a batch takes when the rate limit is what holds it back, shared by the CLI's
 * up-front estimate, its progress bar's ETA and hosts. The remaining budget is spent at once;
 * after that, each window lets `requests` more through every `perMs + latencyMs` (the limiter
 * re-stamps a charge when its answer is back, so a window frees up one round trip after the
 * upstream's). The last request's answer ends the batch. With 4 per minute, a full budget and
 * 13 new lookups: 4 now, 4 after 1 min, 4 after 2 min, 1 after 3 min, so about 3 min.
 *
 * It assumes the spent part of each window frees up a whole window from now (it does not see
 * when the charges already in a window were made), so with a window spent by a previous run it
 * errs long by at most one window. 0 when nothing is limited.
 */
export function estimateBatchMs(input: BatchEstimateInput): number {
  const calls = Math.ceil(Math.max(0, input.lookups - (input.cached ?? 0)) * (input.requestsPerLookup ?? 1));
  if (calls === 0) return 0;
  const latency = Math.max(0, input.latencyMs ?? 0);
  let slowest = 0;
  for (const window of input.windows) {
    const beyondBudget = calls - Math.max(0, window.remaining);
    if (beyondBudget <= 0) continue;
    const waves = Math.ceil(beyondBudget / window.requests);
    slowest = Math.max(slowest, waves * (window.perMs + latency));
  }
  return input.windows.length > 0 ? slowest + latency : 0;
}
