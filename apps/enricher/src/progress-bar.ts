import { formatEta, humanDuration, runEta, type InstanceBudget } from './progress.js';
import type { QuotaWait } from './commands/enrich.js';
import { fitCells } from './terminal/cells.js';

/** What the bar counts: lookups as they finish (in any order), not records as they are written in input order. */
export interface LookupCounts {
  /** Lookups finished (one per observable x provider; an invalid or skipped input counts its providers at once). */
  lookups: number;
  cacheHits: number;
  errors: number;
}

export interface ProgressBar {
  /** Redraws with new counts (throttled). */
  update(counts: LookupCounts): void;
  /** Prints text (whole lines) above the bar, never inside it. */
  log(text: string): void;
  /** Runs `write` (output to a stream on the same terminal) with the bar cleared, then draws it again. */
  aside<T>(write: () => T): T;
  /** Clears the bar and gives the cursor back. Safe to call twice. */
  stop(): void;
}

const CLEAR_LINE = '\r\x1b[2K';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const BAR_CELLS = 24;

/**
 * One status line at the bottom of the terminal, on stderr: done/total, rate, cache hits,
 * errors, time waiting for quota and an ETA that knows the rate limits.
 *
 * Not cli-progress: it saves the cursor position and turns line wrap off when it starts and
 * restores both when it stops, so anything written in between (the table, a warning) was
 * clipped and then overwritten by the summary. This line is drawn with `\r` + erase-line only,
 * is never wider than the terminal (so it never wraps), and is erased before anything else is
 * written: the screen holds only what was printed, in order.
 */
export function createProgressBar(options: {
  stream: NodeJS.WriteStream;
  /** Observables expected, when known. */
  total: number | undefined;
  /** Provider instances each observable is looked up with. */
  instances: number;
  /** The instances' budgets as last known (read at every redraw: they change as the run spends them). */
  budgets: () => readonly InstanceBudget[];
  quotaWait: () => QuotaWait;
  now?: () => number;
}): ProgressBar {
  const { stream } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const perObservable = Math.max(1, options.instances);
  let counts: LookupCounts = { lookups: 0, cacheHits: 0, errors: 0 };
  let shown = false;
  let stopped = false;
  let lastDraw = 0;

  const text = (): string => {
    const elapsed = Math.max(1, now() - started);
    const done = Math.floor(counts.lookups / perObservable);
    const total = options.total;
    const rate = ((done * 1000) / elapsed).toFixed(1);
    const eta =
      total === undefined
        ? '?'
        : formatEta(runEta(counts, { total, instances: perObservable, elapsedMs: elapsed, budgets: options.budgets() }).etaMs);
    const head = total === undefined ? `${done} done` : `${bar(total ? done / total : 1)} ${done}/${total}`;
    return `${head} | ${rate}/s | cache ${counts.cacheHits} | errors ${counts.errors} | quota wait ${quotaText(options.quotaWait())} | ETA ${eta}`;
  };

  const draw = () => {
    if (stopped) return;
    lastDraw = now();
    // One cell short of the width: a line that fills the last column leaves the cursor pending
    // a wrap, and the next erase would hit the wrong line on some terminals.
    const columns = stream.columns || 80;
    stream.write(`${CLEAR_LINE}${shown ? '' : HIDE_CURSOR}${fitCells(text(), columns - 1)}`);
    shown = true;
  };
  const erase = () => {
    if (shown) stream.write(CLEAR_LINE);
  };

  // Redraw every second even when nothing finishes: while lookups wait for quota the rate must
  // fall and the wait must grow on screen, not freeze at the last finished lookup.
  const ticker = setInterval(draw, 1_000);
  ticker.unref();
  // A resized terminal: redraw at the new width at once (the old line may now be too wide).
  const onResize = () => {
    erase();
    draw();
  };
  stream.on('resize', onResize);
  draw();

  return {
    update(next) {
      counts = next;
      if (now() - lastDraw >= 100) draw();
    },
    log(line) {
      if (stopped) {
        stream.write(line);
        return;
      }
      erase();
      stream.write(line.endsWith('\n') ? line : `${line}\n`);
      draw();
    },
    aside(write) {
      if (stopped) return write();
      erase();
      try {
        return write();
      } finally {
        draw();
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(ticker);
      stream.off('resize', onResize);
      if (shown) stream.write(`${CLEAR_LINE}${SHOW_CURSOR}`);
    },
  };
}

function bar(fraction: number): string {
  const full = Math.max(0, Math.min(BAR_CELLS, Math.round(fraction * BAR_CELLS)));
  return '█'.repeat(full) + '░'.repeat(BAR_CELLS - full);
}

/** `12s`, or `1m 30s (3 waiting)` while requests wait for budget. */
export function quotaText(wait: QuotaWait): string {
  return `${humanDuration(wait.blockedMs)}${wait.waiting > 0 ? ` (${wait.waiting} waiting)` : ''}`;
}
