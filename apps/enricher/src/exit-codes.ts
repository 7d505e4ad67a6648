/**
 * Exit codes of `x-enrich`, documented in docs/cli.md. Pipelines branch on them, so they
 * never change meaning. When several apply, the highest-priority one wins: interrupted, then an
 * incomplete input, then `--fail-on`, then failed lookups.
 */
export const ExitCode = {
  /** Every input was looked up (found, not found, pending or unsupported). */
  Ok: 0,
  /** The command could not run: bad flags, a missing or invalid config, a plugin that fails to load. */
  Usage: 1,
  /** It ran, but some lookups failed (records with status `error`) or some inputs were not valid observables. */
  SomeFailed: 2,
  /** `--fail-on` was reached: at least one summary verdict is at or above the threshold. */
  FailOn: 3,
  /** The input could not be read to its end (a read error midway): the output is valid, ends with what was read and says `"complete": false`. */
  Incomplete: 4,
  /** Stopped by Ctrl-C, SIGTERM or SIGHUP (128 + SIGINT); the output written so far is complete and valid. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The signals that stop a run cleanly (close the document, then exit 130) or a service
 * gracefully. SIGHUP is what a closed terminal or an ended SSH session sends: by default it
 * kills the process mid-document (`enrich -f stix > out` would leave an unclosed bundle).
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const satisfies readonly NodeJS.Signals[];

export function runExitCode(run: { interrupted: boolean; incomplete?: boolean; failOnReached: boolean; failedLookups: number; invalidInputs: number }): ExitCode {
  if (run.interrupted) return ExitCode.Interrupted;
  if (run.incomplete) return ExitCode.Incomplete;
  if (run.failOnReached) return ExitCode.FailOn;
  if (run.failedLookups > 0 || run.invalidInputs > 0) return ExitCode.SomeFailed;
  return ExitCode.Ok;
}
