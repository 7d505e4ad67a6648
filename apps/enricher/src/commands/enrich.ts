import { VERDICT_SEVERITY, type EnricherEvent, type EnricherStats, type Verdict } from '@x/core';
import { admissibleConcurrency, lookupCapacity } from '../admission.js';
import { loadAppConfig } from '../app-config.js';
import { ExitCode, runExitCode, STOP_SIGNALS } from '../exit-codes.js';
import { reachesFailOn, type FailOn } from '../fail-on.js';
import { argumentInputs, assertReadable, countLines, fileInputBatches, resolveInputFormat, type InputFormat, type RawInput } from '../input/read-inputs.js';
import type { LogLevel } from '../logger.js';
import { commandLogger, openEnricher } from '../open-enricher.js';
import { createFormatter, type EnrichedItem, type OutputFormat, type OutputFormatter } from '../output/formats.js';
import type { LookupCounts, ProgressBar } from '../progress-bar.js';
import { budgetsFromStats, expectedMisses, humanDuration, minimumTimeMs, othersSeen, runEta, upfrontEstimate } from '../progress.js';
import { writeOut } from '../run-command.js';
import { openOutputFile, type OutputFile } from '../output/output-file.js';
import { plural } from '../output/plural.js';
import { routeStderr, writeStderr } from '../terminal/stderr.js';
import { createBatchedWriter } from '../output/batched-writer.js';
import { UsageError } from '../usage-error.js';

export interface EnrichOptions {
  config?: string;
  logLevel?: LogLevel;
  input?: string;
  inputFormat: InputFormat;
  field: string;
  format?: OutputFormat;
  /** `-o FILE`: written to a temporary file beside it and renamed when the run ends. */
  output?: string;
  /** `--wide`: the table shows every column in full, whatever the terminal width. */
  wide?: boolean;
  /** `--lookup-private-addresses`: send private and special addresses upstream too. */
  lookupPrivateAddresses?: boolean;
  providers?: string;
  concurrency?: number;
  refresh?: boolean;
  /** False with `--no-cache`. */
  cache: boolean;
  cacheDir?: string;
  failOn?: FailOn;
  /** False with `--no-progress`. */
  progress: boolean;
  quiet?: boolean;
}

/** What a run counted; the exit code and the summary line come from it. */
export interface RunTally {
  observables: number;
  invalidInputs: number;
  lookups: number;
  cacheHits: number;
  failedLookups: number;
  verdicts: Record<Verdict, number>;
  failOnReached: boolean;
  interrupted: boolean;
  /** Reading the input failed midway (`inputError` says why): the rest was not processed. */
  incomplete: boolean;
  inputError?: string;
}

const ABORTED = Symbol('aborted');

/**
 * Reads an iterator item by item, each read settling with ABORTED as soon as the signal fires.
 * One listener on the signal for the whole run (removed by `close`), which settles the read in
 * progress, and handlers made once: a listener added and removed per item, with a promise and
 * three closures, was ~0.5 µs of every lookup (issue 16). Not a Promise.race against one
 * long-lived "aborted" promise either: every race would leave a reaction on it holding its item,
 * so a 100,000-line run would keep every record in memory; here nothing outlives its read.
 */
class AbortableReader<T> {
  private resolve: ((value: IteratorResult<T> | typeof ABORTED) => void) | undefined;
  private reject: ((error: unknown) => void) | undefined;
  private readonly keep = (resolve: (value: IteratorResult<T> | typeof ABORTED) => void, reject: (error: unknown) => void): void => {
    this.resolve = resolve;
    this.reject = reject;
  };
  // Whichever of the read's answer and the abort comes first settles it; the other finds nothing to settle.
  private readonly onResult = (result: IteratorResult<T>): void => {
    const resolve = this.resolve;
    this.forget();
    resolve?.(result);
  };
  private readonly onError = (error: unknown): void => {
    const reject = this.reject;
    this.forget();
    reject?.(error);
  };
  private readonly onAbort = (): void => {
    const resolve = this.resolve;
    this.forget();
    resolve?.(ABORTED);
  };

  constructor(
    private readonly iterator: AsyncIterator<T>,
    private readonly signal: AbortSignal,
  ) {
    if (!signal.aborted) signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The next item, or ABORTED (at once when the signal has fired). One read at a time. */
  next(): Promise<IteratorResult<T> | typeof ABORTED> {
    if (this.signal.aborted) return Promise.resolve(ABORTED);
    const read = new Promise(this.keep);
    this.iterator.next().then(this.onResult, this.onError);
    return read;
  }

  /** Stops listening to the signal. */
  close(): void {
    this.signal.removeEventListener('abort', this.onAbort);
  }

  private forget(): void {
    this.resolve = undefined;
    this.reject = undefined;
  }
}

/**
 * Drives the engine's stream into a formatter. On abort it stops at once (it does not wait for
 * lookups in flight, which may be waiting for quota) and still closes the document, so what
 * was written stays valid.
 */
export async function runEnrichment(options: {
  stream: AsyncIterable<EnrichedItem>;
  formatter: OutputFormatter;
  /** Writes output text; resolves once it is handed on. */
  write: (text: string) => Promise<void>;
  /** Called before the document's end is written (the progress bar goes away before the table). */
  beforeEnd?: () => void;
  signal: AbortSignal;
  failOn?: FailOn;
  onItem?: (item: EnrichedItem, tally: RunTally) => void;
}): Promise<RunTally> {
  const tally: RunTally = {
    observables: 0,
    invalidInputs: 0,
    lookups: 0,
    cacheHits: 0,
    failedLookups: 0,
    verdicts: { malicious: 0, suspicious: 0, benign: 0, unknown: 0 },
    failOnReached: false,
    interrupted: false,
    incomplete: false,
  };
  const out = createBatchedWriter(options.write);
  await out.write(options.formatter.start());
  const iterator = options.stream[Symbol.asyncIterator]();
  const reader = new AbortableReader(iterator, options.signal);
  try {
    for (;;) {
      const next = await reader.next();
      if (next === ABORTED) {
        tally.interrupted = true;
        break;
      }
      if (next.done) break;
      const item = next.value;
      if (item.summary.observable) {
        tally.observables += 1;
        tally.verdicts[item.summary.verdict] += 1;
        if (reachesFailOn(item.summary.verdict, options.failOn)) tally.failOnReached = true;
        for (const record of item.records) {
          if (record.status === 'unsupported' || record.status === 'skipped') continue;
          tally.lookups += 1;
          if (record.cache.hit) tally.cacheHits += 1;
          if (record.status === 'error') tally.failedLookups += 1;
        }
      } else {
        tally.invalidInputs += 1;
      }
      options.onItem?.(item, tally);
      await out.write(options.formatter.item(item));
    }
  } catch (error) {
    // A usage mistake found in the input (a CSV without the --field column) stays one.
    if (error instanceof UsageError) throw error;
    // The input failed midway (a read error): what was done stays valid and says it is incomplete.
    tally.incomplete = true;
    tally.inputError = error instanceof Error ? error.message : String(error);
  } finally {
    reader.close();
    // Do not wait for the engine to wind down lookups in flight: it may sit in a quota wait.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
    await out.flush();
    options.beforeEnd?.();
    await options.write(options.formatter.end({ interrupted: tally.interrupted, complete: !tally.interrupted && !tally.incomplete, invalidInputs: tally.invalidInputs }));
  }
  return tally;
}

/** The line printed on stderr after a run. */
export function summaryLine(tally: RunTally, elapsedMs: number, quotaWaitMs: number, total?: number): string {
  const verdicts = (Object.keys(VERDICT_SEVERITY) as Verdict[])
    .sort((a, b) => VERDICT_SEVERITY[b] - VERDICT_SEVERITY[a])
    .map((verdict) => `${tally.verdicts[verdict]} ${verdict}`)
    .join(', ');
  const head = tally.interrupted
    ? `interrupted after ${tally.observables}${total === undefined ? '' : ` of ${total}`} ${plural(total ?? tally.observables, 'observable')} (the output written so far is complete)`
    : `${plural(tally.observables, 'observable', true)} in ${humanDuration(elapsedMs)}`;
  return (
    `x-enrich: ${head}: ${verdicts}; ${plural(tally.lookups, 'lookup', true)}, ${tally.cacheHits} from cache, ${tally.failedLookups} failed` +
    (tally.invalidInputs ? `; ${plural(tally.invalidInputs, 'invalid input', true)}` : '') +
    (quotaWaitMs >= 100 ? `; waited ${humanDuration(quotaWaitMs)} for quota` : '') +
    '\n'
  );
}

/** Time spent blocked on quota and requests waiting now, across the selected instances. */
export interface QuotaWait {
  /** Wall-clock ms during which some instance had a request waiting for budget (the longest instance's). */
  blockedMs: number;
  /** Requests waiting for budget right now. */
  waiting: number;
}

export function quotaWait(stats: EnricherStats, only?: readonly string[]): QuotaWait {
  // Wall-clock time, not the sum of every request's wait: 16 lookups waiting one minute together
  // cost the run one minute. Instances wait side by side, so the longest one is the run's.
  let blockedMs = 0;
  let waiting = 0;
  for (const [name, instance] of Object.entries(stats)) {
    if (only && !only.includes(name)) continue;
    blockedMs = Math.max(blockedMs, instance.quotaBlockedMs);
    waiting += instance.waitingForQuota;
  }
  return { blockedMs, waiting };
}

/** Where the inputs come from: arguments, then `--input` (a file or `-`), else stdin when it is piped. */
function inputSources(args: readonly string[], options: EnrichOptions): { sources: Array<Iterable<RawInput[]> | AsyncIterable<RawInput[]>>; file?: string } {
  // Batches of inputs (a file's: one per chunk read), handed on one by one by the command.
  const sources: Array<Iterable<RawInput[]> | AsyncIterable<RawInput[]>> = [];
  if (args.length) sources.push([[...argumentInputs(args)]]);
  let file = options.input;
  if (!file && !args.length) {
    if (process.stdin.isTTY) throw new UsageError('enrich: give observables as arguments, or --input FILE (- for standard input)');
    file = '-';
  }
  if (file) sources.push(fileInputBatches({ path: file, format: options.inputFormat, field: options.field }));
  return { sources, file };
}

export async function enrichCommand(args: string[], options: EnrichOptions): Promise<ExitCode> {
  const stderr = process.stderr;
  const toTerminal = !options.output && Boolean(process.stdout.isTTY);
  const format: OutputFormat = options.format ?? (toTerminal ? 'table' : 'jsonl');
  if (options.input) await assertReadable(options.input);
  const { sources, file } = inputSources(args, options);

  const { config, dir, path } = await loadAppConfig(options.config);
  const selected = options.providers?.split(',').map((name) => name.trim()).filter(Boolean);
  if (selected) {
    const configured = Object.keys(config.providers).filter((name) => config.providers[name]?.enabled);
    const unknown = selected.filter((name) => !configured.includes(name));
    if (unknown.length) throw new UsageError(`--providers: no instance named ${unknown.join(', ')} (configured: ${configured.join(', ') || 'none'})`);
    // Only the selected instances are loaded: no End-of-Life warning for a v2 instance `-p vt3` leaves out.
    for (const [name, instance] of Object.entries(config.providers)) if (!selected.includes(name)) instance.enabled = false;
  }
  if (options.concurrency) config.concurrency = options.concurrency;
  // Never more lookups at once than a bulkhead holds: the rest wait instead of failing X_BULKHEAD_FULL.
  config.concurrency = admissibleConcurrency(config.concurrency, lookupCapacity(config));
  if (options.lookupPrivateAddresses) config.lookupPrivateAddresses = true;
  const logger = commandLogger(options.logLevel, 'warn');
  // Lookups as they finish (any order), for the bar: the stream writes records in input order,
  // so one slow lookup at the head would otherwise freeze the count.
  const live: LookupCounts = { lookups: 0, cacheHits: 0, errors: 0 };
  let progress: ProgressBar | undefined;
  const onEvent = (event: EnricherEvent) => {
    if (event.type !== 'lookup' || (selected && !selected.includes(event.instance))) return;
    live.lookups += 1;
    if (event.cacheHit) live.cacheHits += 1;
    if (event.status === 'error') live.errors += 1;
    progress?.update(live);
  };
  const opened = await openEnricher({
    config,
    configDir: dir,
    configPath: path,
    logger,
    stores: { mode: 'cli', cacheDir: options.cacheDir, noCache: !options.cache },
    onEvent,
  });
  const controller = new AbortController();
  let output: OutputFile | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const onSignal = () => {
    // A second Ctrl-C means "now": skip the tidy shutdown (the exit handler still removes a temporary -o file).
    if (controller.signal.aborted) process.exit(ExitCode.Interrupted);
    controller.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    const { enricher } = opened;
    // A total makes the bar, the ETA and the up-front estimate possible; counting a file is cheap next to the run.
    const wantsTotal = !options.quiet;
    const fileCount = wantsTotal && file ? await countLines(file).then((n) => (n !== undefined && resolveInputFormat(file, options.inputFormat) === 'csv' ? n - 1 : n)) : undefined;
    const total = file ? (fileCount === undefined ? undefined : args.length + fileCount) : args.length;
    // Publish this run's demand in the rate-limit store and read the budget (remaining, when it
    // frees, what the other processes sharing it still need): the up-front estimate, the bar's
    // ETA and the `progress` debug lines all read it from the engine's synchronous stats.
    if (total !== undefined) await enricher.expectLookups(total, { providers: selected });
    const budgets = () => budgetsFromStats(enricher.stats(), Date.now(), selected);
    const instanceCount = budgets().length;
    if (total !== undefined) {
      // For benchmarks and logs: the estimate in ms, whether or not it is long enough to print.
      // `others`: how many others sharing a budget had published a demand (0: the estimate is for the budget to itself).
      const now = budgets();
      logger.debug(
        {
          lookups: total,
          estimateMs: Math.max(0, ...now.map((budget) => minimumTimeMs(total, budget.windows, budget.sharedWith, budget.share))),
          others: othersSeen(now),
        },
        'up-front estimate',
      );
    }
    if (!options.quiet && total !== undefined) {
      const estimate = upfrontEstimate(total, budgets());
      if (estimate) writeStderr(`x-enrich: ${estimate}\n`);
    }
    const formatter = await createFormatter(format, {
      color: toTerminal,
      // Read when the table is drawn, so a terminal resized during the run gets a table that fits.
      width: options.wide || !toTerminal ? undefined : () => process.stdout.columns,
    });
    if (options.output) output = await openOutputFile(options.output);
    const out = output?.stream ?? process.stdout;

    if (options.progress && !options.quiet && stderr.isTTY) {
      const { createProgressBar } = await import('../progress-bar.js');
      progress = createProgressBar({ stream: stderr, total, instances: instanceCount, budgets, quotaWait: () => quotaWait(enricher.stats(), selected) });
      routeStderr((text) => progress?.log(text));
    }
    const bar = () => progress;
    const stopBar = () => {
      routeStderr(undefined);
      progress?.stop();
      progress = undefined;
    };

    // Locations of the inputs handed to the engine, in order: its stream answers in input order.
    const locations: string[] = [];
    const signal = controller.signal;
    let invalidLines = 0;
    async function* raws(): AsyncGenerator<string> {
      for (const source of sources) {
        for await (const batch of source) {
          for (const input of batch) {
            if (signal.aborted) return;
            if ('problem' in input) {
              writeStderr(`x-enrich: ${input.location}: ${input.problem}; skipped\n`);
              invalidLines += 1;
              continue;
            }
            locations.push(input.location);
            yield input.raw;
          }
        }
      }
    }
    const started = Date.now();
    // Every second: publish the demand still expected (so a fleet's estimates count it; a crashed
    // run's lapses after DEMAND_TTL_MS), refresh the budget, and log the ETA the bar shows as a
    // `progress` debug line ({ done, total, etaMs }): a machine-readable ETA when stderr is no terminal.
    let refreshing: Promise<void> | undefined;
    const refresh = (): void => {
      if (total === undefined || refreshing) return;
      const misses = expectedMisses({ total, done: Math.floor(live.lookups / Math.max(1, instanceCount)), misses: live.lookups - live.cacheHits, lookupsDone: live.lookups });
      refreshing = enricher
        .expectLookups(misses, { providers: selected })
        .then(() => {
          const now = budgets();
          const { done, etaMs } = runEta(live, { total, instances: instanceCount, elapsedMs: Date.now() - started, budgets: now });
          // `others`: how many others sharing a budget this ETA counts (0: it has the budget to itself, as far as it knows).
          logger.debug({ done, total, etaMs, others: othersSeen(now) }, 'progress');
        })
        .finally(() => (refreshing = undefined));
    };
    ticker = total === undefined ? undefined : setInterval(refresh, 1_000);
    ticker?.unref();
    const tally = await runEnrichment({
      // No signal for the engine: on Ctrl-C we stop reading and writing at once and exit, which
      // ends the requests in flight; aborting each lookup first would only add skipped records
      // nobody reads.
      stream: enricher.stream(raws(), { refresh: options.refresh, providers: selected }),
      formatter,
      // Output on the bar's terminal is written with the bar out of the way; a file or a pipe
      // needs no care (and 100,000 records to a pipe must not redraw the bar 100,000 times).
      write: (text) => {
        const current = bar();
        return current && toTerminal ? current.aside(() => writeOut(text, out)) : writeOut(text, out);
      },
      beforeEnd: stopBar,
      signal,
      failOn: options.failOn,
      onItem(item) {
        const location = locations.shift();
        if (!item.summary.observable) {
          const error = item.records.find((record) => record.error)?.error;
          writeStderr(`x-enrich: ${location ?? 'input'}: ${error?.message ?? 'not an observable'} (${error?.code ?? 'X_OBSERVABLE_INVALID'})\n`);
        }
        // Records that never reach a provider (an invalid input, a type it does not handle, a
        // private address) make no lookup event: they finish when they are written.
        const silent = item.records.filter((record) => !record.observable || record.status === 'unsupported' || (record.status === 'skipped' && !record.error)).length;
        if (silent) {
          live.lookups += silent;
          progress?.update(live);
        }
      },
    });
    clearInterval(ticker);
    await refreshing;
    // Nothing more to spend: withdraw the demand at once rather than let it lapse.
    if (total !== undefined) await enricher.expectLookups(0, { providers: selected });
    tally.invalidInputs += invalidLines;
    if (tally.incomplete) writeStderr(`x-enrich: reading the input failed after ${tally.observables} observables: ${tally.inputError}; the output is complete up to there and marked incomplete\n`);
    stopBar();
    if (output) {
      const where = await output.finish({ interrupted: tally.interrupted });
      if (where !== options.output) writeStderr(`x-enrich: interrupted: the output so far (a complete document) is in ${where}, not ${options.output}\n`);
      output = undefined;
    }
    if (!options.quiet || tally.interrupted) {
      writeStderr(summaryLine(tally, Date.now() - started, quotaWait(enricher.stats(), selected).blockedMs, total));
    }
    return runExitCode(tally);
  } finally {
    clearInterval(ticker);
    routeStderr(undefined);
    progress?.stop();
    // A run that failed leaves no file, whole or half, under the final name.
    await output?.discard();
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    // Closing may wait on sockets; an interrupted run should not hang on them.
    await Promise.race([opened.close(), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }
}
