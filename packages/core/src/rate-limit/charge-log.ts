import type { RateLimitWindow } from '../contract/manifest.js';
import { DEMAND_TTL_MS, LOWERED_BUDGET_TTL_MS, PENDING_CHARGE_LEASE_MS, PENDING_CHARGE_POLL_MS, type RateLimitAttempt, type RateLimitRefusal } from '../contract/rate-limit-store.js';

/**
 * One key's sliding-window log, shared by core's memory and file stores (the Redis store runs
 * the same algorithm in Lua, held to the same conformance kit).
 *
 * Every charge is stamped with the moment it counts from (`at`): a charge in flight is stamped
 * at its grant plus the lease (in the future, so it is inside every window until it is
 * settled); `settle` re-stamps it with the answer's time. A window counts the charges with
 * `at > now - perMs`. One log serves every window of the key; it is pruned of charges older
 * than the longest window, so it holds at most about `requests` of the largest window.
 */
export interface ChargeLog {
  /** Sorted by `at`, oldest first. */
  charges: Array<{ id: string; at: number; cost: number }>;
  /** No grant before this time (after a refusal). */
  blockedUntil: number;
  /** Last charge id issued. */
  seq: number;
  /** Budgets lowered after refusals (`lower`), shared by every process on this log; dropped once `until` passes. */
  lowered?: LoweredWindow[];
  /** Outstanding demand per participant (`demand`), dropped once `until` passes. */
  demand?: Record<string, { units: number; until: number }>;
}

/** A window of `perMs` configured at `configured` requests grants at most `requests` until `until`. */
export interface LoweredWindow {
  perMs: number;
  configured: number;
  requests: number;
  until: number;
}

export function emptyChargeLog(): ChargeLog {
  // A random start: a settle naming a charge of a log that was since reset or recovered never
  // re-stamps a new charge that happens to have the same number.
  return { charges: [], blockedUntil: 0, seq: Math.floor(Math.random() * 2 ** 40) };
}

/** True when `value` has the shape of a ChargeLog (the file store checks what it reads). */
export function isChargeLog(value: unknown): value is ChargeLog {
  if (typeof value !== 'object' || value === null) return false;
  const log = value as Partial<ChargeLog>;
  return (
    Array.isArray(log.charges) &&
    typeof log.blockedUntil === 'number' &&
    typeof log.seq === 'number' &&
    (log.lowered === undefined || (Array.isArray(log.lowered) && log.lowered.every((l) => typeof l?.perMs === 'number' && typeof l.configured === 'number' && typeof l.requests === 'number' && typeof l.until === 'number'))) &&
    (log.demand === undefined || (typeof log.demand === 'object' && log.demand !== null && Object.values(log.demand).every((d) => typeof d?.units === 'number' && typeof d.until === 'number'))) &&
    log.charges.every((c) => typeof c === 'object' && c !== null && typeof c.id === 'string' && typeof c.at === 'number' && typeof c.cost === 'number')
  );
}

function insertSorted(log: ChargeLog, charge: { id: string; at: number; cost: number }): void {
  let i = log.charges.length;
  while (i > 0 && (log.charges[i - 1] as { at: number }).at > charge.at) i--;
  log.charges.splice(i, 0, charge);
}

function prune(log: ChargeLog, windows: readonly RateLimitWindow[], now: number): void {
  const longest = Math.max(0, ...windows.map((w) => w.perMs));
  let expired = 0;
  while (expired < log.charges.length && (log.charges[expired] as { at: number }).at <= now - longest) expired++;
  if (expired > 0) log.charges.splice(0, expired);
}

/** Units each window holds at `now`. */
function usedPerWindow(log: ChargeLog, windows: readonly RateLimitWindow[], now: number): number[] {
  return windows.map((window) => {
    let used = 0;
    for (const charge of log.charges) if (charge.at > now - window.perMs) used += charge.cost;
    return used;
  });
}

/** How long until `excess` units have left `window` (Infinity when the cost can never fit). */
function waitFor(log: ChargeLog, window: RateLimitWindow, cost: number, excess: number, now: number): number {
  if (cost > window.requests) return Number.POSITIVE_INFINITY;
  let freed = 0;
  for (const charge of log.charges) {
    if (charge.at <= now - window.perMs) continue;
    freed += charge.cost;
    if (freed >= excess) {
      // In flight: its settle will re-stamp it, usually long before the lease ends.
      if (charge.at > now) return PENDING_CHARGE_POLL_MS;
      return Math.max(1, charge.at + window.perMs - now);
    }
  }
  return window.perMs;
}

/**
 * The windows in force: a window lowered in this log (for the same length and the same
 * configured requests: a changed configuration starts afresh) grants its lowered requests.
 * Returns the windows as given when nothing applies, so `limits` is only reported when it matters.
 */
function inForce(log: ChargeLog, windows: readonly RateLimitWindow[], now: number, cost = 1): { windows: readonly RateLimitWindow[]; limits?: number[] } {
  if (!log.lowered) return { windows };
  log.lowered = log.lowered.filter((l) => l.until > now);
  if (log.lowered.length === 0) {
    delete log.lowered;
    return { windows };
  }
  let changed = false;
  const effective = windows.map((window) => {
    const lowered = log.lowered?.find((l) => l.perMs === window.perMs && l.configured === window.requests && l.requests < window.requests);
    if (!lowered) return window;
    changed = true;
    // Never below one request's cost: a lowered budget slows a batch down, it never makes it impossible.
    return { requests: Math.max(lowered.requests, Math.min(cost, window.requests)), perMs: window.perMs };
  });
  return changed ? { windows: effective, limits: effective.map((w) => w.requests) } : { windows };
}

/** Shares a lowered budget for window `index` (see `RateLimitStore.lower`). Mutates `log`. */
export function lowerIn(log: ChargeLog, windows: readonly RateLimitWindow[], index: number, requests: number, now: number): void {
  const window = windows[index];
  if (!window || !(requests >= 1) || requests >= window.requests) return;
  const others = (log.lowered ?? []).filter((l) => l.until > now && !(l.perMs === window.perMs && l.configured === window.requests));
  const previous = log.lowered?.find((l) => l.until > now && l.perMs === window.perMs && l.configured === window.requests);
  log.lowered = [...others, { perMs: window.perMs, configured: window.requests, requests: Math.min(requests, previous?.requests ?? requests), until: now + LOWERED_BUDGET_TTL_MS }];
}

/** Publishes a participant's demand and returns the others' live demands (see `RateLimitStore.demand`). Mutates `log`. */
export function demandIn(log: ChargeLog, participant: string, units: number, now: number): number[] {
  const live: Record<string, { units: number; until: number }> = {};
  for (const [id, entry] of Object.entries(log.demand ?? {})) if (entry.until > now && id !== participant) live[id] = entry;
  const others = Object.values(live).map((entry) => entry.units);
  if (units > 0) live[participant] = { units, until: now + DEMAND_TTL_MS };
  if (Object.keys(live).length > 0) log.demand = live;
  else delete log.demand;
  return others;
}

/** Checks every window and charges all of them, or none. Mutates `log`. */
export function tryAcquireIn(log: ChargeLog, configured: readonly RateLimitWindow[], cost: number, now: number): RateLimitAttempt {
  const { windows, limits } = inForce(log, configured, now, cost);
  const attempt = acquireIn(log, windows, cost, now);
  return limits ? { ...attempt, limits } : attempt;
}

function acquireIn(log: ChargeLog, windows: readonly RateLimitWindow[], cost: number, now: number): RateLimitAttempt {
  prune(log, windows, now);
  const used = usedPerWindow(log, windows, now);
  const remaining = (): number[] => windows.map((w, i) => Math.max(0, w.requests - (used[i] as number)));
  const shortest = shortestWindow(windows);
  if (log.blockedUntil > now) {
    const never = windows.some((w) => cost > w.requests);
    return { granted: false, retryAfterMs: never ? Number.POSITIVE_INFINITY : log.blockedUntil - now, window: shortest, remaining: remaining() };
  }
  let blocked = -1;
  let retryAfterMs = 0;
  windows.forEach((window, i) => {
    const excess = (used[i] as number) + cost - window.requests;
    if (excess <= 0) return;
    const wait = waitFor(log, window, cost, excess, now);
    // Report the longest wait: only then does every window have budget again.
    if (wait > retryAfterMs) {
      retryAfterMs = wait;
      blocked = i;
    }
  });
  if (blocked >= 0) return { granted: false, retryAfterMs, window: blocked, remaining: remaining() };
  log.seq += 1;
  const id = String(log.seq);
  insertSorted(log, { id, at: now + PENDING_CHARGE_LEASE_MS, cost });
  for (let i = 0; i < used.length; i++) used[i] = (used[i] as number) + cost;
  return { granted: true, chargeId: id, remaining: remaining() };
}

/** Re-stamps a charge with `now`. Mutates `log`; false when the charge is unknown (pruned, or refused). */
export function settleIn(log: ChargeLog, chargeId: string, now: number): boolean {
  const i = log.charges.findIndex((c) => c.id === chargeId);
  if (i < 0) return false;
  const [charge] = log.charges.splice(i, 1) as [{ id: string; at: number; cost: number }];
  insertSorted(log, { ...charge, at: now });
  return true;
}

/** Removes a refused charge and blocks the key. Mutates `log`. */
export function refuseIn(log: ChargeLog, windows: readonly RateLimitWindow[], chargeId: string, now: number, retryAfterMs?: number): RateLimitRefusal {
  const i = log.charges.findIndex((c) => c.id === chargeId);
  if (i >= 0) log.charges.splice(i, 1);
  prune(log, windows, now);
  const used = usedPerWindow(log, windows, now);
  let until: number;
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    until = now + retryAfterMs;
  } else {
    // The upstream did not say: the shortest window is full until its oldest charge leaves it.
    const window = windows[shortestWindow(windows)];
    const perMs = window?.perMs ?? 0;
    const oldest = log.charges.find((c) => c.at > now - perMs);
    until = Math.min(now + perMs, oldest ? oldest.at + perMs : now + perMs);
  }
  log.blockedUntil = Math.max(log.blockedUntil, until);
  const { limits } = inForce(log, windows, now);
  return limits ? { blockedUntil: log.blockedUntil, used, limits } : { blockedUntil: log.blockedUntil, used };
}

/** Remaining budget per window (a shared lowered budget applied). */
export function peekIn(log: ChargeLog, configured: readonly RateLimitWindow[], now: number): number[] {
  const { windows } = inForce(log, configured, now);
  prune(log, windows, now);
  const used = usedPerWindow(log, windows, now);
  return windows.map((w, i) => Math.max(0, w.requests - (used[i] as number)));
}

/** Per window, when its oldest charge leaves (a whole window when none is settled in it). */
export function freesInIn(log: ChargeLog, windows: readonly RateLimitWindow[], now: number): number[] {
  prune(log, windows, now);
  return windows.map((window) => {
    const oldest = log.charges.find((c) => c.at > now - window.perMs);
    return oldest && oldest.at <= now ? oldest.at + window.perMs - now : window.perMs;
  });
}

/** Index of the shortest window (the one an upstream refusal most likely concerns). */
export function shortestWindow(windows: readonly RateLimitWindow[]): number {
  let best = 0;
  windows.forEach((w, i) => {
    if (w.perMs < (windows[best] as RateLimitWindow).perMs) best = i;
  });
  return best;
}
