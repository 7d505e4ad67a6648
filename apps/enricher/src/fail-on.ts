import { VERDICT_SEVERITY, type Verdict } from '@x/core';

/** The thresholds `--fail-on` accepts. */
export type FailOn = Extract<Verdict, 'suspicious' | 'malicious'>;

/** Whether a summary verdict reaches the `--fail-on` threshold. */
export function reachesFailOn(verdict: Verdict, failOn: FailOn | undefined): boolean {
  return failOn !== undefined && VERDICT_SEVERITY[verdict] >= VERDICT_SEVERITY[failOn];
}
