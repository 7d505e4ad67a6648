/** A rate-limit window with the budget left in it (what `RateLimiter.remaining()` reports). */
export interface EstimateWindow {
  requests: number;
  perMs: number;
  remaining: number;
  /** When the spent part of the window starts to come back (ms from now); default: a whole window. */
  freesInMs?: number;
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
   * back, so a unit of budget returns one window plus one round trip after it was granted. Default 0.
   */
  latencyMs?: number;
  /**
   * Outstanding demands (upstream requests) of the others spending the same budget: other
   * processes of a fleet, other instances of a quota group (`QuotaSnapshot.othersDemand`).
   * Default none: the batch has the budget to itself.
   */
  sharedWith?: readonly number[];
  /** This batch's own share of the budget (`QuotaSnapshot.share`), a window its requests alone spend. */
  share?: EstimateWindow;
}

/** A snapshot's windows as they stand at `now`: the time since the store answered has brought the spent part closer. */
export function windowsAt(snapshot: { windows: readonly EstimateWindow[]; at: number }, now: number): EstimateWindow[] {
  // (`share` is reported as of the snapshot itself, not of `at`: it needs no ageing here.)
  const since = Math.max(0, now - snapshot.at);
  return snapshot.windows.map((window) => ({ ...window, ...(window.freesInMs !== undefined ? { freesInMs: Math.max(0, window.freesInMs - since) } : {}) }));
}

/** Beyond this many upstream requests the estimate uses the closed formula instead of replaying each one. */
const REPLAY_LIMIT = 200_000;

/**
 * How long a batch takes when the rate limit is what holds it back, shared by the CLI's
 * up-front estimate, its progress bar's ETA and hosts. It replays the limiter: the remaining
 * budget is spent at once, the spent part of the window comes back at `freesInMs`, and every
 * unit returns `perMs + latencyMs` after it was used (the limiter re-stamps a charge when its
 * answer is back). The last request's answer ends the batch. With 4 per minute, a full budget
 * and 13 new lookups: 4 now, 4 after 1 min, 4 after 2 min, 1 after 3 min, so about 3 min.
 * 0 when nothing is limited.
 *
 * Shared with others (`sharedWith`), the limiter grants in turn to whoever asks, so each
 * demand is served at about the same pace until it is met (processor sharing): this batch's
 * last request goes once its own `calls` and, of each other demand `d`, `min(d, calls)` are
 * sent. Three processes with 14 requests each all finish with the fleet's 42nd request; one
 * with 4 among two with 20 finishes with the 12th.
 */
export function estimateBatchMs(input: BatchEstimateInput): number {
  const own = Math.ceil(Math.max(0, input.lookups - (input.cached ?? 0)) * (input.requestsPerLookup ?? 1));
  let calls = own;
  for (const other of input.sharedWith ?? []) calls += Math.min(Math.max(0, Math.ceil(other)), own);
  if (calls === 0 || input.windows.length === 0) return 0;
  const latency = Math.max(0, input.latencyMs ?? 0);
  let slowest = 0;
  for (const window of input.windows) slowest = Math.max(slowest, lastCallAt(calls, window, latency));
  if (input.share) slowest = Math.max(slowest, lastCallAt(own, input.share, latency));
  return slowest + latency;
}

/** When the last of `calls` requests can be sent under one window. */
function lastCallAt(calls: number, window: EstimateWindow, latency: number): number {
  const remaining = Math.max(0, Math.min(window.requests, window.remaining));
  if (calls <= remaining) return 0;
  const cycle = window.perMs + latency;
  const freesIn = Math.max(0, Math.min(window.freesInMs ?? window.perMs, window.perMs));
  if (calls > REPLAY_LIMIT) return freesIn + (Math.ceil((calls - remaining) / window.requests) - 1) * cycle;
  // The units of budget, by when each is next available; used in order, so a FIFO stays sorted.
  const queue: number[] = [...Array<number>(remaining).fill(0), ...Array<number>(window.requests - remaining).fill(freesIn)];
  let head = 0;
  let at = 0;
  for (let call = 0; call < calls; call++) {
    at = queue[head++] as number;
    queue.push(at + cycle);
  }
  return at;
}
