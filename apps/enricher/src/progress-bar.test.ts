import { describe, expect, it } from 'vitest';
import type { EnricherStats, InstanceStats } from '@x/core';
import { quotaWait } from './commands/enrich.js';
import { createProgressBar, quotaText } from './progress-bar.js';

const instance = (quotaBlockedMs: number, waitingForQuota: number): InstanceStats =>
  ({ quotaWaitMs: quotaBlockedMs * 16, quotaBlockedMs, waitingForQuota }) as InstanceStats;

describe('quota wait', () => {
  it('is wall-clock time (the longest instance), not the sum of every waiting request, with those waiting now', () => {
    const stats: EnricherStats = { vt3: instance(60_000, 16), vt2: instance(20_000, 4), other: instance(900_000, 1) };
    expect(quotaWait(stats, ['vt3', 'vt2'])).toEqual({ blockedMs: 60_000, waiting: 20 });
    expect(quotaText(quotaWait(stats, ['vt3', 'vt2']))).toBe('1m (20 waiting)');
    expect(quotaText({ blockedMs: 2_000, waiting: 0 })).toBe('2.0s');
  });
});

/** A terminal stand-in that records what cli-progress draws. */
function fakeTerminal(): NodeJS.WriteStream & { text: string } {
  const terminal = {
    text: '',
    isTTY: true,
    columns: 160,
    write(chunk: string) {
      terminal.text += chunk;
      return true;
    },
    cursorTo: () => true,
    clearLine: () => true,
    clearScreenDown: () => true,
    moveCursor: () => true,
    on: () => terminal,
    off: () => terminal,
    removeListener: () => terminal,
  };
  return terminal as unknown as NodeJS.WriteStream & { text: string };
}

describe('progress bar', () => {
  it('redraws while nothing finishes, so a growing quota wait shows as it happens', async () => {
    const stream = fakeTerminal();
    let wait = { blockedMs: 0, waiting: 0 };
    const bar = createProgressBar({ stream, total: 100, instances: 1, budgets: () => [], quotaWait: () => wait });
    bar.update({ lookups: 4, cacheHits: 0, errors: 0 });
    wait = { blockedMs: 15_000, waiting: 16 };
    // No update() call from here on: only the bar's own redraw (every second) can show the wait.
    for (let waited = 0; waited < 10_000 && !stream.text.includes('quota wait 15s'); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    bar.stop();
    expect(stream.text).toContain('quota wait 15s (16 waiting)');
  });
});
