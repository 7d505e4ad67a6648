import type { QuotaWindow } from './options.js';

/**
 * Per-key sliding-window quotas, several windows at once (e.g. 4/min and 500/day). Only
 * accepted requests count, as on VirusTotal, so a client that backs off gets its budget back.
 * A sliding log (not fixed, clock-aligned windows) keeps "the N+1th request within the window
 * is refused" true wherever a test happens to start.
 */
export class QuotaTracker {
  private readonly logs = new Map<string, number[][]>();

  constructor(private readonly windows: readonly QuotaWindow[]) {}

  /** Counts one request for `key` and returns true, or returns false (nothing counted) when a window is full. */
  tryAcquire(key: string, now: number): boolean {
    if (this.windows.length === 0) return true;
    let logs = this.logs.get(key);
    if (!logs) {
      logs = this.windows.map(() => []);
      this.logs.set(key, logs);
    }
    for (let i = 0; i < this.windows.length; i++) {
      const window = this.windows[i] as QuotaWindow;
      const log = logs[i] as number[];
      let expired = 0;
      while (expired < log.length && (log[expired] as number) <= now - window.perMs) expired++;
      if (expired > 0) log.splice(0, expired);
      if (log.length >= window.requests) return false;
    }
    for (const log of logs) log.push(now);
    return true;
  }

  reset(): void {
    this.logs.clear();
  }
}
