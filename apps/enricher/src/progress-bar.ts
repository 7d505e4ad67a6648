import cliProgress from 'cli-progress';
import { estimateRemainingMs, formatEta, humanDuration, type InstanceBudget } from './progress.js';
import type { QuotaWait, RunTally } from './commands/enrich.js';

export interface ProgressBar {
  update(tally: RunTally): void;
  /** Prints a line above the bar (a bad input, a warning) without tearing it. */
  log(line: string): void;
  stop(): void;
}

/**
 * The bar on stderr: done/total, rate, cache hits, errors, time spent waiting for quota and an
 * ETA that knows the rate limits. Only used when stderr is a terminal.
 */
export function createProgressBar(options: { stream: NodeJS.WriteStream; total: number | undefined; budgets: readonly InstanceBudget[]; quotaWait: () => QuotaWait }): ProgressBar {
  const known = options.total !== undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: options.stream,
      format: `${known ? '{bar} {value}/{total}' : '{value} done'} | {speed}/s | cache {hits} | errors {errors} | quota wait {wait} | ETA {eta_text}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  const payload = (tally?: RunTally) => {
    const elapsed = Math.max(1, Date.now() - started);
    const done = tally ? tally.observables + tally.invalidInputs : 0;
    const eta = known && tally
      ? estimateRemainingMs({ total: options.total!, done, elapsedMs: elapsed, misses: tally.lookups - tally.cacheHits, lookupsDone: tally.lookups, budgets: options.budgets })
      : undefined;
    return {
      speed: ((done * 1000) / elapsed).toFixed(1),
      hits: tally?.cacheHits ?? 0,
      errors: (tally?.failedLookups ?? 0) + (tally?.invalidInputs ?? 0),
      wait: quotaText(options.quotaWait()),
      eta_text: known ? formatEta(eta) : '?',
    };
  };
  bar.start(options.total ?? 0, 0, payload());
  let stopped = false;
  let last: RunTally | undefined;
  // Redraw every second even when nothing finishes: while lookups wait for quota the rate must
  // fall and the wait must grow on screen, not freeze at the last finished lookup.
  const ticker = setInterval(() => bar.update(last ? last.observables + last.invalidInputs : 0, payload(last)), 1_000);
  ticker.unref();
  return {
    update(tally) {
      last = tally;
      bar.update(tally.observables + tally.invalidInputs, payload(tally));
    },
    log(line) {
      // cli-progress redraws on the next tick; clear the line first so the text is not interleaved.
      options.stream.write(`\r\x1b[2K${line}`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(ticker);
      bar.stop();
    },
  };
}

/** `12s`, or `1m 30s (3 waiting)` while requests wait for budget. */
export function quotaText(wait: QuotaWait): string {
  return `${humanDuration(wait.blockedMs)}${wait.waiting > 0 ? ` (${wait.waiting} waiting)` : ''}`;
}
