import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../contract/tokens.js';
import { formatDuration } from '../contract/duration.js';
import { XEnrichError } from '../contract/x-enrich-error.js';
import { silentLogger, type Logger } from '../contract/logger.js';
import type { RateLimitWindow } from '../contract/manifest.js';
import { PENDING_CHARGE_POLL_MS, type QuotaSnapshot, type RateLimitGrant, type RateLimiter, type RateLimitStore } from '../contract/rate-limit-store.js';
import { shortestWindow } from './charge-log.js';
import { abortError } from '../contract/sleep.js';

export interface RateLimiterOptions {
  /**
   * The budget's key in the store: the instance name, or the quota group's name when several
   * instances spend one key's quota. Processes sharing a store and key share the budget.
   */
  key: string;
  /** Every window is enforced at once; empty means unlimited. */
  windows: readonly RateLimitWindow[];
  store: RateLimitStore;
  clock?: Clock;
  /** Longest one `acquire` may wait in total; beyond it, it fails at once with X_RATE_LIMIT_EXHAUSTED. Default 5 minutes. */
  maxWaitMs?: number;
  /** Where refusals and a lowered budget are reported (once per window, not per request). */
  logger?: Logger;
}

/**
 * A participant's share of a window of `requests` shared with others whose outstanding demands
 * are `others`: equal shares, except that a demand smaller than its equal share leaves the rest
 * to the others (max-min fairness): 8 shared with [14, 14] gives 3; with [1] gives 7.
 *
 * When the window does not divide evenly, the units left over go to the largest outstanding
 * demands (`own`: this participant's): 8 among a demand of 6 and two of 14 gives the two large
 * ones 3 and the small one 2, adding up to the window. Rounding every share up instead (3 + 3 + 3
 * for 8) left the store to pick who came short by who asked first, so a process's finish, and
 * its ETA, was a lottery of a whole window (the first process of a fleet finished at 20 s or
 * at 30 s from one run to the next). Handing the extra to the largest demands is also what
 * processor sharing (`estimateBatchMs`'s `sharedWith`) assumes: a smaller demand is served at
 * the same pace as the others until it is met, not faster. Participants with the same demand
 * all get the extra (they cannot tell who is first); the store then settles between them,
 * and whoever came short has the larger demand at the next window. Without `own`, the share
 * rounds up (the most this participant may take).
 */
export function fairShare(requests: number, others: readonly number[], own?: number): number {
  const waiting = others.filter((units) => units > 0).sort((a, b) => a - b);
  let left = requests;
  let sharing = waiting.length + 1;
  let big = 0;
  for (; big < waiting.length; big++) {
    const units = waiting[big] as number;
    if (units >= left / sharing) break;
    left -= units;
    sharing -= 1;
  }
  const even = Math.floor(left / sharing);
  const extra = left - even * sharing;
  if (own === undefined || extra === 0) return Math.max(1, Math.ceil(left / sharing));
  // Of the others that share what is left (the large demands), those with more outstanding than this one.
  const larger = waiting.slice(big).filter((units) => units > own).length;
  return Math.max(1, even + (larger < extra ? 1 : 0));
}

/** The budget key of a quota group (instances use their own name; this cannot clash with one: names have no ':'). */
export function quotaKey(group: string): string {
  return `quota:${group}`;
}

/** How often a waiter re-reads the store while this process's own charges are in flight (a local settle wakes it sooner). */
const LOCAL_FLIGHT_POLL_MS = 250;

/** How often a limiter kept to its fair share looks again (the CLI refreshes the others' demand every second). */
const SHARE_RECHECK_MS = 1_000;

/** Nothing to report back when there is no limit. */
const UNLIMITED: RateLimitGrant = { settle: () => Promise.resolve(), refused: () => Promise.resolve() };

/** Describes a window for people: `4 per 1m`. */
function describeWindow(window: RateLimitWindow): string {
  return `${window.requests} per ${formatDuration(window.perMs)}`;
}

/** A rate for people: `4/min`, `500/day`, `8 per 5s`. */
export function describeRate(requests: number, perMs: number): string {
  const units: Record<number, string> = { 1_000: 's', 60_000: 'min', 3_600_000: 'h', 86_400_000: 'day' };
  const unit = units[perMs];
  return unit ? `${requests}/${unit}` : `${requests} per ${formatDuration(perMs)}`;
}

/**
 * Throws X_CONFIG_INVALID when a limit can never be met: no requests, no window length, or a
 * cost larger than a window allows. Called at config load and by `acquire`, so a lookup fails
 * with one clear error instead of waiting forever.
 */
export function checkWindows(windows: readonly RateLimitWindow[], where: string, cost = 1): void {
  for (const window of windows) {
    if (!(Number.isInteger(window.requests) && window.requests >= 1) || !(window.perMs >= 1)) {
      throw new XEnrichError('X_CONFIG_INVALID', `${where}: the rate limit ${window.requests} per ${window.perMs} ms can never be met: a window needs at least 1 request and a length of at least 1ms.`);
    }
    if (cost > window.requests) {
      throw new XEnrichError('X_CONFIG_INVALID', `${where}: a request costs ${cost} units, more than the ${describeWindow(window)} window allows; raise the window's requests to at least ${cost}.`);
    }
  }
}

/**
 * A limiter for one budget key over a `RateLimitStore`. `acquire` sleeps until the store says
 * budget returns and tries again, so a lookup waits instead of spending a request the upstream
 * would refuse; when the wait would exceed `maxWaitMs` (a spent day window) it fails at once
 * with `X_RATE_LIMIT_EXHAUSTED`, whose message says when budget returns.
 *
 * The grant it returns closes the loop with the upstream (see `RateLimitStore`): `settle()`
 * re-stamps the charge when the answer is back, `refused()` removes it and blocks the key.
 * A refusal is logged once per blocked window (X_WARN_QUOTA_REFUSED). When refusals repeat
 * below the configured budget (another tool spends the same key, or the configured quota is
 * higher than the real one), the limiter lowers its own budget for the shortest window to what
 * the upstream accepted and warns once (X_WARN_QUOTA_LOWERED, "configured 4/min, the upstream
 * refuses above 3/min").
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter & Required<Pick<RateLimiter, 'snapshot' | 'refresh'>> {
  const { key, store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxWaitMs = options.maxWaitMs ?? 300_000;
  checkWindows(options.windows, `Rate limit "${key}"`);
  const configured: RateLimitWindow[] = options.windows.map((w) => ({ requests: w.requests, perMs: w.perMs }));
  // A store that shares lowered budgets is told the configured windows and applies the lowering
  // itself (for every process); with another store, this limiter lowers its own copy.
  const shares = typeof store.lower === 'function';
  /** The budget in force: the configured windows, the shortest one lowered after repeated refusals (here, or in the store). */
  let windows: RateLimitWindow[] = configured.map((w) => ({ ...w }));
  /** What the store is told: see `shares`. */
  const asked = (): readonly RateLimitWindow[] => (shares ? configured : windows);
  const shortest = shortestWindow(configured);
  const participant = randomUUID();
  // The last-known budget (`snapshot`), from every answer of the store.
  let known: number[] = configured.map((w) => w.requests);
  let knownAt = 0;
  let freesIn: number[] | undefined;
  let freesAt = 0;
  let demand = 0;
  let othersDemand: number[] = [];
  const remember = (remaining: number[] | void, at: number): void => {
    if (!remaining || remaining.length !== configured.length) return;
    known = remaining;
    knownAt = at;
  };
  let waitedMs = 0;
  /** Sleepers blocked only by charges in flight: a settle in this process wakes them at once. */
  const waitingOnFlight = new Set<AbortController>();
  /** Grants of this limiter not yet settled or refused. */
  let inFlight = 0;
  let loggedUntil = 0;
  let refusalWindows = 0;
  let lowestAccepted = Number.POSITIVE_INFINITY;
  /** The X_WARN_QUOTA_LOWERED warning was given (once per limiter). */
  let lowered = false;

  const warnLowered = (requests: number, byOthers: boolean): void => {
    if (lowered) return;
    lowered = true;
    const was = configured[shortest] as RateLimitWindow;
    const rate = describeRate(requests, was.perMs);
    logger.warn(
      { code: 'X_WARN_QUOTA_LOWERED', key, configured: describeRate(was.requests, was.perMs), observed: rate, shared: shares },
      `configured ${describeRate(was.requests, was.perMs)}, the upstream refuses above ${rate}${byOthers ? ' (seen by another process sharing this budget)' : ''}: ${shares ? 'every process sharing this budget keeps' : 'this run keeps'} to ${rate}. Configure the real quota (or give the other users of this key their own).`,
    );
  };

  /** Adopts the limits a store reports (a budget lowered here or by another process); none: the configured ones again. */
  const adopt = (limits: number[] | undefined): void => {
    if (!shares) return;
    if (!limits || limits.length !== configured.length) {
      windows = configured.map((w) => ({ ...w }));
      return;
    }
    windows = configured.map((w, i) => ({ perMs: w.perMs, requests: Math.min(w.requests, limits[i] ?? w.requests) }));
    const lowest = windows[shortest] as RateLimitWindow;
    if (lowest.requests < (configured[shortest] as RateLimitWindow).requests) warnLowered(lowest.requests, refusalWindows < 2);
  };

  /**
   * Requests waiting for budget, in arrival order: only the head asks the store, the others wait
   * for their turn. Under contention this keeps the order of arrival and, in a fleet, shares the
   * budget about evenly between processes: when a window frees, every process's head asks once,
   * and the next asks after an answer, instead of one process's whole crowd of waiters asking
   * at once and taking the wave (measured: one process took all 8 of a wave). With budget to
   * spare nobody queues, and requests ask the store side by side.
   */
  const queue: Array<() => void> = [];
  const nextInQueue = (): void => {
    queue.shift();
    queue[0]?.();
  };
  const waitTurn = async (signal: AbortSignal | undefined): Promise<void> => {
    let wake!: () => void;
    const turn = new Promise<void>((resolve) => (wake = resolve));
    queue.push(wake);
    if (queue.length === 1) return;
    if (!signal) return turn;
    if (signal.aborted) {
      queue.splice(queue.indexOf(wake), 1);
      throw abortError(signal);
    }
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([turn, aborted]);
    } catch (error) {
      const at = queue.indexOf(wake);
      if (at === 0) nextInQueue();
      else if (at > 0) queue.splice(at, 1);
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };

  const wakeFlightWaiters = (): void => {
    for (const waiter of waitingOnFlight) waiter.abort();
    waitingOnFlight.clear();
  };

  async function onRefusal(used: number[], blockedUntil: number, retryAfterMs: number | undefined, now: number): Promise<void> {
    const window = windows[shortest] as RateLimitWindow;
    const accepted = used[shortest] ?? 0;
    if (now < loggedUntil) {
      // The same blocked window: already said.
      lowestAccepted = Math.min(lowestAccepted, accepted);
      return;
    }
    loggedUntil = blockedUntil;
    logger.warn(
      { code: 'X_WARN_QUOTA_REFUSED', key, accepted, window: describeRate(window.requests, window.perMs), retryAfterMs, until: new Date(blockedUntil).toISOString() },
      `the upstream refused a request for quota after ${accepted} in the last ${formatDuration(window.perMs)}; no request is sent before ${new Date(blockedUntil).toISOString()}, and the refused ones wait for budget again`,
    );
    if (accepted >= window.requests) return; // refused at our own budget: our window is the upstream's
    lowestAccepted = Math.min(lowestAccepted, accepted);
    refusalWindows += 1;
    if (refusalWindows < 2) return; // once can be another tool's burst; twice is the real quota
    const lowerTo = Math.max(1, lowestAccepted);
    if (lowerTo >= window.requests) return;
    window.requests = lowerTo;
    // Shared through the store: the fleet lowers together, not one process after another
    // (each would otherwise pay its own two refused windows to learn the same thing).
    if (shares) await store.lower?.(key, configured, shortest, lowerTo, now);
    warnLowered(lowerTo, false);
  }

  /**
   * When this limiter's own charges count from (grant, then answer), for its fair share (see
   * `overShare`); in flight, a charge counts as now. Pruned beyond the shortest window.
   */
  const own: Array<{ at: number }> = [];
  const inFlightOwn = new Set<{ at: number }>();
  /** Units being asked for on the fast path right now (not yet in `own`): they count toward the share too. */
  let asking = 0;
  /**
   * While others sharing the budget have published a demand (a fleet, a quota group), this
   * limiter keeps to its fair share of the shortest window (`fairShare`: equal, but what a
   * smaller demand leaves goes to the others), and
   * returns how long until its own oldest charge leaves it (0: within its share). The shares add
   * up to at least the window, so the budget is spent at the full rate; without it, whichever
   * process asks first when a window frees takes most of it, and each one's finish (and
   * estimate) is a lottery. A participant that is done withdraws its demand and the others'
   * shares grow at their next refresh. Nobody publishing (a server): no effect.
   */
  function overShare(cost: number, now: number): number {
    const others = othersDemand.filter((units) => units > 0).length;
    const window = windows[shortest];
    if (others === 0 || demand === 0 || !window) return 0;
    for (let i = own.length - 1; i >= 0; i--) {
      const charge = own[i] as { at: number };
      if (!inFlightOwn.has(charge) && charge.at <= now - window.perMs) own.splice(i, 1);
    }
    const share = fairShare(window.requests, othersDemand, demand);
    if (own.length + asking + cost <= share) return 0;
    const oldest = own.find((charge) => !inFlightOwn.has(charge));
    // All ours are in flight: a settle wakes the waiters. Otherwise look again at least every
    // second: the others' demand is refreshed that often, and a finished one frees its share.
    return oldest ? Math.max(1, Math.min(SHARE_RECHECK_MS, oldest.at + window.perMs - now)) : LOCAL_FLIGHT_POLL_MS;
  }

  function grantFor(chargeId: string): RateLimitGrant {
    let done = false;
    inFlight += 1;
    const charge = { at: clock.now() };
    // Kept only while a share applies (others publish a demand): a server that publishes none
    // keeps nothing per request.
    const tracked = demand > 0 && othersDemand.some((units) => units > 0);
    if (tracked) {
      own.push(charge);
      inFlightOwn.add(charge);
    } else if (own.length > 0 && inFlightOwn.size === 0) {
      own.length = 0;
    }
    const answered = (): void => {
      if (!tracked) return;
      charge.at = clock.now();
      inFlightOwn.delete(charge);
      own.sort((a, b) => a.at - b.at);
    };
    return {
      async settle() {
        if (done) return;
        done = true;
        inFlight -= 1;
        answered();
        try {
          const at = clock.now();
          remember(await store.settle(key, asked(), chargeId, at), at);
        } catch (error) {
          // The charge stays in flight until its lease ends: budget returns later, never sooner.
          logger.warn({ err: error, key }, 'could not re-stamp a rate-limit charge; its budget returns when its lease ends');
        } finally {
          wakeFlightWaiters();
        }
      },
      async refused(retryAfterMs) {
        if (done) return;
        done = true;
        inFlight -= 1;
        // Refused: the upstream did not count it, and neither does our share.
        if (tracked) {
          inFlightOwn.delete(charge);
          const at = own.indexOf(charge);
          if (at >= 0) own.splice(at, 1);
        }
        const now = clock.now();
        try {
          const refusal = await store.refuse(key, asked(), chargeId, now, retryAfterMs);
          adopt(refusal.limits);
          // Blocked: nothing is granted before blockedUntil, whatever the windows hold.
          remember(configured.map(() => 0), now);
          await onRefusal(refusal.used, refusal.blockedUntil, retryAfterMs, now);
        } catch (error) {
          logger.warn({ err: error, key }, 'could not record a quota refusal in the rate-limit store');
        } finally {
          wakeFlightWaiters();
        }
      },
    };
  }

  /** The head of the queue asks the store until granted, sleeping until budget returns. */
  async function waitAtHead(cost: number, signal: AbortSignal | undefined, queuedAt: number): Promise<RateLimitGrant> {
    // Time in the queue counts: a lookup's wait is the whole of it.
    let waitedHere = clock.now() - queuedAt;
    waitedMs += waitedHere;
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const now = clock.now();
      const beyondShare = overShare(cost, now);
      if (beyondShare > 0) {
        waitedHere += await sleepUnlessWoken(beyondShare, signal, true);
        continue;
      }
      const attempt = await store.tryAcquire(key, asked(), cost, now);
      adopt(attempt.limits);
      remember(attempt.remaining, now);
      if (attempt.granted) return grantFor(attempt.chargeId);
      const window = windows[attempt.window] as RateLimitWindow;
      if (waitedHere + attempt.retryAfterMs > maxWaitMs) {
        const returns = Number.isFinite(attempt.retryAfterMs)
          ? `budget returns in ${formatDuration(Math.ceil(attempt.retryAfterMs / 1000) * 1000)} (at ${new Date(clock.now() + attempt.retryAfterMs).toISOString()})`
          : `a request costing ${cost} can never fit in this window`;
        throw new XEnrichError(
          'X_RATE_LIMIT_EXHAUSTED',
          `Rate limit ${describeWindow(window)} for "${key}" is spent: ${returns}, longer than the ${formatDuration(maxWaitMs)} a lookup may wait.`,
          { retryable: true, details: { key, window, retryAfterMs: attempt.retryAfterMs, maxWaitMs } },
        );
      }
      const onFlight = attempt.retryAfterMs <= PENDING_CHARGE_POLL_MS;
      // Our own requests are in flight: their settle wakes us, so poll the store (for other
      // processes' charges) far less often than PENDING_CHARGE_POLL_MS.
      const sleepMs = onFlight && inFlight > 0 ? LOCAL_FLIGHT_POLL_MS : attempt.retryAfterMs;
      waitedHere += await sleepUnlessWoken(sleepMs, signal, onFlight);
    }
  }

  /**
   * Sleeps `ms` on the clock; a settle in this process ends the sleep early when `wakeOnSettle`
   * (the head tries again at once), the caller's signal ends it with the abort error. Counts the
   * time slept in the limiter's waits.
   * @returns the milliseconds slept.
   */
  async function sleepUnlessWoken(ms: number, signal: AbortSignal | undefined, wakeOnSettle: boolean): Promise<number> {
    // The signal may have aborted while the store was asked: a listener added now would never
    // fire, and the lookup would sleep out the whole wait (seen with the file store's slower calls).
    if (signal?.aborted) throw abortError(signal);
    const started = clock.now();
    const wake = new AbortController();
    if (wakeOnSettle) waitingOnFlight.add(wake);
    const onAbort = (): void => wake.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let slept = 0;
    try {
      await clock.sleep(ms, wake.signal);
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (!wake.signal.aborted) throw error;
      // Woken by a settle in this process.
    } finally {
      signal?.removeEventListener('abort', onAbort);
      waitingOnFlight.delete(wake);
      slept = clock.now() - started;
      waitedMs += slept;
    }
    return slept;
  }

  /** This limiter's share as the snapshot reports it (see `QuotaSnapshot.share`), while one applies. */
  function shareOf(): Pick<QuotaSnapshot, 'share'> {
    const window = windows[shortest];
    if (!window || demand === 0 || !othersDemand.some((units) => units > 0)) return {};
    const now = clock.now();
    const counted = own.filter((charge) => inFlightOwn.has(charge) || charge.at > now - window.perMs);
    const requests = Math.min(window.requests, fairShare(window.requests, othersDemand, demand));
    const oldest = counted.find((charge) => !inFlightOwn.has(charge));
    return { share: { requests, perMs: window.perMs, remaining: Math.max(0, requests - counted.length), freesInMs: oldest ? Math.max(0, oldest.at + window.perMs - now) : window.perMs } };
  }

  function snapshot(): QuotaSnapshot {
    return {
      // freesInMs counts from `at` (the store's last answer), like the remaining budget.
      windows: windows.map((window, i) => ({
        requests: window.requests,
        perMs: window.perMs,
        remaining: Math.min(window.requests, known[i] ?? 0),
        ...(freesIn ? { freesInMs: Math.max(0, (freesIn[i] ?? window.perMs) - (knownAt - freesAt)) } : {}),
      })),
      at: knownAt,
      demand,
      othersDemand: [...othersDemand],
      inFlight,
      ...shareOf(),
      ...(windows[shortest]?.requests !== configured[shortest]?.requests ? { loweredFrom: { window: shortest, configured: (configured[shortest] as RateLimitWindow).requests } } : {}),
    };
  }

  return {
    unlimited: configured.length === 0,

    get waitedMs() {
      return waitedMs;
    },

    async acquire(cost = 1, signal?: AbortSignal) {
      if (windows.length === 0) return UNLIMITED;
      checkWindows(options.windows, `Rate limit "${key}"`, cost);
      if (signal?.aborted) throw abortError(signal);
      if (queue.length === 0 && overShare(cost, clock.now()) === 0) {
        // Nobody waits: ask at once, side by side with other requests.
        const now = clock.now();
        asking += cost;
        let attempt: Awaited<ReturnType<RateLimitStore['tryAcquire']>>;
        try {
          attempt = await store.tryAcquire(key, asked(), cost, now);
        } finally {
          // In the same turn as the grant below joins `own`: the share never sees it twice or not at all.
          asking -= cost;
        }
        adopt(attempt.limits);
        remember(attempt.remaining, now);
        if (attempt.granted) return grantFor(attempt.chargeId);
      }
      const queuedAt = clock.now();
      await waitTurn(signal);
      try {
        return await waitAtHead(cost, signal, queuedAt);
      } finally {
        nextInQueue();
      }
    },

    async remaining() {
      const now = clock.now();
      const [left, frees] = await Promise.all([store.peek(key, asked(), now), store.freesIn?.(key, asked(), now)]);
      remember(left, now);
      if (frees) [freesIn, freesAt] = [frees, now];
      return windows.map((window, i) => ({ requests: window.requests, perMs: window.perMs, remaining: left[i] ?? 0, ...(frees ? { freesInMs: frees[i] ?? window.perMs } : {}) }));
    },

    snapshot,

    async refresh(units) {
      if (units !== undefined) demand = Math.max(0, Math.ceil(units));
      if (windows.length === 0) return snapshot();
      const now = clock.now();
      const [left, frees, others] = await Promise.all([
        store.peek(key, asked(), now),
        store.freesIn?.(key, asked(), now),
        store.demand?.(key, asked(), participant, demand, now),
      ]);
      remember(left, now);
      [freesIn, freesAt] = [frees, now];
      othersDemand = others ?? [];
      return snapshot();
    },
  };
}
