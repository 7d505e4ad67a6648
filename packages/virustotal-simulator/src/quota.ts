import type { QuotaMode, QuotaWindow } from './options.js';

/**
 * Per-key quotas, several windows at once (e.g. 4/min and 500/day), counted when a request
 * ARRIVES, in one of the two ways real APIs count:
 * - `sliding` (default): at most `requests` accepted in any `perMs`, a log of arrival times;
 * - `fixed`: at most `requests` accepted per clock-aligned window (`floor(now / perMs)`), the
 *   budget returning all at once at the boundary.
 * Only accepted requests count, as on VirusTotal, so a client that backs off gets its budget back.
 */
export class QuotaTracker {
  private readonly logs = new Map<string, number[][]>();
  private readonly fixed = new Map<string, Array<{ index: number; used: number }>>();

  constructor(
    private readonly windows: readonly QuotaWindow[],
    private readonly mode: QuotaMode = 'sliding',
  ) {}

  /** Counts one request for `key` and returns true, or returns false (nothing counted) when a window is full. */
  tryAcquire(key: string, now: number): boolean {
    if (this.windows.length === 0) return true;
    return this.mode === 'fixed' ? this.tryFixed(key, now) : this.trySliding(key, now);
  }

  private trySliding(key: string, now: number): boolean {
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

  private tryFixed(key: string, now: number): boolean {
    let slots = this.fixed.get(key);
    if (!slots) {
      slots = this.windows.map(() => ({ index: -1, used: 0 }));
      this.fixed.set(key, slots);
    }
    for (let i = 0; i < this.windows.length; i++) {
      const window = this.windows[i] as QuotaWindow;
      const slot = slots[i] as { index: number; used: number };
      const index = Math.floor(now / window.perMs);
      if (slot.index !== index) {
        slot.index = index;
        slot.used = 0;
      }
      if (slot.used >= window.requests) return false;
    }
    for (const slot of slots) slot.used += 1;
    return true;
  }

  reset(): void {
    this.logs.clear();
    this.fixed.clear();
  }
}
