import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { XEnrichError } from '../contract/x-enrich-error.js';
import { silentLogger, type Logger } from '../contract/logger.js';
import type { RateLimitWindow } from '../contract/manifest.js';
import type { RateLimitStore } from '../contract/rate-limit-store.js';
import { demandIn, emptyChargeLog, freesInIn, isChargeLog, lowerIn, peekIn, refuseIn, settleIn, shortestWindow, tryAcquireIn, type ChargeLog } from './charge-log.js';
import { checkCost } from './memory-rate-limit-store.js';

export interface FileRateLimitStoreOptions {
  /** Directory holding one JSON file (and, briefly, one lock file) per budget key; created on first use. */
  dir: string;
  logger?: Logger;
  /** Longest a call waits for another process's lock before failing with X_STORE_UNAVAILABLE. Default 10 s. */
  lockTimeoutMs?: number;
}

/** A lock older than this is taken over whoever holds it: a process holds it for milliseconds. */
export const RATE_LIMIT_LOCK_STALE_MS = 10_000;

/** The first line of a lock file: who holds it. */
interface LockOwner {
  pid: number;
  host: string;
}

function ownerOf(text: string): LockOwner | undefined {
  const [pid, host] = text.split(' ');
  const n = Number(pid);
  return Number.isInteger(n) && n > 0 && host ? { pid: n, host } : undefined;
}

/** `kill(pid, 0)` tests for a process without signalling it; EPERM means it exists (another user's). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A `RateLimitStore` on files, for the CLI: back-to-back and parallel runs on one machine share
 * one budget, so a quota lives as long as the key, not as long as a process.
 *
 * One JSON file per key (named by the key's sha256), holding the key's charge log (the same
 * sliding-window algorithm as the memory store). Every call reads, updates and rewrites it
 * (temp file + rename, so a reader never sees half a file) under a lock file created with
 * a hard link (atomic, failing if a lock exists) to a file already naming its owner (`pid host`). The lock is held for the milliseconds of one
 * read-modify-write; a lock whose owner is no longer alive on this host (a SIGKILLed run) is
 * taken over at once, and any lock older than RATE_LIMIT_LOCK_STALE_MS (an owner on another
 * host, a frozen process) too, so a crash never leaves the budget locked.
 *
 * We wrote the lock (40 lines) rather than use proper-lockfile: its staleness is by
 * modification time only (at least 2 s, refreshed by a timer in the owner), so a killed run
 * would block the budget for seconds, while the owner's pid tells at once.
 *
 * A corrupt or unreadable-as-JSON file is moved aside (`.corrupt-<time>`) with a logged warning
 * (X_WARN_RATE_LIMIT_STATE_RECOVERED), and the key is treated as full for its shortest window,
 * so the budget spent before the loss is not spent twice. A file that cannot be read or
 * written at all (permissions) fails the call with X_STORE_UNAVAILABLE naming the path.
 */
export function createFileRateLimitStore(options: FileRateLimitStoreOptions): RateLimitStore & { readonly dir: string } {
  const { dir } = options;
  const logger = options.logger ?? silentLogger;
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const host = hostname();
  let dirReady: Promise<unknown> | undefined;
  const fileFor = (key: string): string => join(dir, `${createHash('sha256').update(key).digest('hex')}.json`);
  const unavailable = (what: string, file: string, cause: unknown): XEnrichError =>
    new XEnrichError('X_STORE_UNAVAILABLE', `The rate-limit file store cannot ${what} ${file}: ${(cause as Error).message ?? String(cause)}. Check the directory's permissions, or configure rateLimitStore: { store: memory }.`, { cause, retryable: false });

  async function takeOverStale(lock: string, seen: string): Promise<void> {
    // Rename first: only one process wins the rename of a given lock file.
    const aside = `${lock}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(lock, aside);
    } catch {
      return; // someone else took it over, or it was released
    }
    const moved = await readFile(aside, 'utf8').catch(() => '');
    if (moved !== seen) {
      // Between our look and our rename, the stale lock was replaced by a live one: put it back.
      await link(aside, lock).catch(() => undefined);
    } else {
      logger.warn({ code: 'X_WARN_RATE_LIMIT_STATE_RECOVERED', lock, owner: seen.trim() }, 'took over a rate-limit lock left by a process that is gone');
    }
    await unlink(aside).catch(() => undefined);
  }

  async function lock(file: string): Promise<string> {
    const path = `${file}.lock`;
    const token = `${process.pid} ${host} ${randomBytes(6).toString('hex')}\n`;
    const deadline = Date.now() + lockTimeoutMs;
    // The lock appears with its owner already written in it (a hard link to a finished file is
    // atomic and fails if the lock exists), so a process killed while locking never leaves an
    // anonymous lock that only its age could clear.
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.owner.tmp`;
    await writeFile(draft, token, { mode: 0o600 }).catch((error: unknown) => {
      throw unavailable('lock', path, error);
    });
    try {
      for (;;) {
        try {
          await link(draft, path);
          return token;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'EEXIST') throw unavailable('lock', path, error);
        }
        await waitForLock(path);
      }
    } finally {
      await unlink(draft).catch(() => undefined);
    }

    async function waitForLock(path: string): Promise<void> {
      const [held, info] = await Promise.all([readFile(path, 'utf8').catch(() => undefined), stat(path).catch(() => undefined)]);
      if (held === undefined || !info) return; // released meanwhile
      const owner = ownerOf(held);
      const dead = owner !== undefined && owner.host === host && !isAlive(owner.pid);
      if (dead || Date.now() - info.mtimeMs > RATE_LIMIT_LOCK_STALE_MS) {
        await takeOverStale(path, held);
        return;
      }
      if (Date.now() > deadline) {
        throw new XEnrichError('X_STORE_UNAVAILABLE', `The rate-limit file ${file} stayed locked by process ${owner?.pid ?? '?'} for ${lockTimeoutMs} ms.`, { retryable: true });
      }
      await delay(1 + Math.floor(Math.random() * 4));
    }
  }

  async function unlock(file: string, token: string): Promise<void> {
    const path = `${file}.lock`;
    // Only our own lock: if we were so slow it was taken over, it is someone else's now.
    const held = await readFile(path, 'utf8').catch(() => undefined);
    if (held === token) await unlink(path).catch(() => undefined);
  }

  async function read(file: string, windows: readonly RateLimitWindow[], now: number): Promise<{ log: ChargeLog; recovered: boolean }> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { log: emptyChargeLog(), recovered: false };
      throw unavailable('read', file, error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (isChargeLog(parsed)) return { log: parsed, recovered: false };
    const aside = `${file}.corrupt-${now}`;
    await rename(file, aside).catch(() => undefined);
    const log = emptyChargeLog();
    // What was spent is unknown: treat the shortest window as full rather than spend it twice.
    const window = windows[shortestWindow(windows)];
    if (window) log.blockedUntil = now + window.perMs;
    logger.warn(
      { code: 'X_WARN_RATE_LIMIT_STATE_RECOVERED', file, movedTo: aside, blockedUntil: new Date(log.blockedUntil).toISOString() },
      'rate-limit file was corrupt: moved aside and started a new log; the budget is treated as spent for one window',
    );
    return { log, recovered: true };
  }

  /**
   * Calls on one key from this process run one at a time: they would otherwise all poll the
   * same lock file, and a settle would queue behind a dozen waiters' attempts.
   */
  const queues = new Map<string, Promise<unknown>>();
  function serially<T>(file: string, run: () => Promise<T>): Promise<T> {
    const previous = queues.get(file) ?? Promise.resolve();
    const next = previous.then(run, run);
    const tail = next.catch(() => undefined);
    queues.set(file, tail);
    void tail.then(() => {
      if (queues.get(file) === tail) queues.delete(file);
    });
    return next;
  }

  /** Runs `change` on the key's log under the lock; writes the log back only when `change` says it changed it. */
  function update<T>(key: string, windows: readonly RateLimitWindow[], now: number, change: (log: ChargeLog) => { result: T; changed: boolean }): Promise<T> {
    const file = fileFor(key);
    return serially(file, async () => {
      dirReady ??= mkdir(dir, { recursive: true, mode: 0o700 });
      await dirReady.catch((error: unknown) => {
        dirReady = undefined;
        throw unavailable('create', dir, error);
      });
      const token = await lock(file);
      try {
        const { log, recovered } = await read(file, windows, now);
        const { result, changed } = change(log);
        if (changed || recovered) {
          const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
          try {
            await writeFile(temp, JSON.stringify(log), { mode: 0o600 });
            await rename(temp, file);
          } catch (error) {
            await unlink(temp).catch(() => undefined);
            throw unavailable('write', file, error);
          }
        }
        return result;
      } finally {
        await unlock(file, token);
      }
    });
  }

  return {
    dir,
    async tryAcquire(key, windows, cost, now) {
      checkCost(cost);
      if (windows.length === 0) return { granted: true, chargeId: '0', remaining: [] };
      // A refused attempt changes nothing worth writing (pruning can wait for the next write).
      return update(key, windows, now, (log) => {
        const attempt = tryAcquireIn(log, windows, cost, now);
        return { result: attempt, changed: attempt.granted };
      });
    },
    async settle(key, windows, chargeId, now) {
      if (windows.length === 0) return [];
      return update(key, windows, now, (log) => {
        const found = settleIn(log, chargeId, now);
        return { result: peekIn(log, windows, now), changed: found };
      });
    },
    async refuse(key, windows, chargeId, now, retryAfterMs) {
      return update(key, windows, now, (log) => ({ result: refuseIn(log, windows, chargeId, now, retryAfterMs), changed: true }));
    },
    async peek(key, windows, now) {
      if (windows.length === 0) return [];
      // Peeking takes the lock too: a consistent read of a file being replaced.
      return update(key, windows, now, (log) => ({ result: peekIn(log, windows, now), changed: false }));
    },
    async freesIn(key, windows, now) {
      if (windows.length === 0) return [];
      return update(key, windows, now, (log) => ({ result: freesInIn(log, windows, now), changed: false }));
    },
    async demand(key, windows, participant, units, now) {
      // Demand lives beside the charge log, under the same lock: one file per key.
      return update(key, windows, now, (log) => {
        const before = JSON.stringify(log.demand ?? {});
        const others = demandIn(log, participant, units, now);
        return { result: others, changed: JSON.stringify(log.demand ?? {}) !== before };
      });
    },
    async lower(key, windows, window, requests, now) {
      if (windows.length === 0) return;
      await update(key, windows, now, (log) => {
        lowerIn(log, windows, window, requests, now);
        return { result: undefined, changed: true };
      });
    },
    async reset(key) {
      const file = fileFor(key);
      await serially(file, async () => {
        const token = await lock(file);
        try {
          await unlink(file).catch(() => undefined);
        } finally {
          await unlock(file, token);
        }
      });
    },
  };
}
