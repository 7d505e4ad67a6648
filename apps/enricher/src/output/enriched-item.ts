import type { ObservableSummary, ResultRecord } from '@x/core';

/** What the engine's `stream` yields for one input: its records (one per provider) and its summary. */
export interface EnrichedItem {
  readonly records: readonly ResultRecord[];
  readonly summary: ObservableSummary;
}

/** Facts about the run that a format may print after the last item. */
export interface RunFooter {
  /** The run was stopped early (Ctrl-C, SIGTERM, SIGHUP): the document still closes validly. */
  readonly interrupted: boolean;
  /** Every input was read and looked up: false when interrupted or when reading the input failed midway. */
  readonly complete: boolean;
  /** Inputs that were not valid observables (records with code X_OBSERVABLE_INVALID, and a line on stderr). */
  readonly invalidInputs: number;
}

/**
 * A streaming output format. Each method returns text to write; formats keep only what they
 * must between calls (json keeps summaries, stix the ids it already wrote, table its rows), so
 * a jsonl run of 100,000 inputs holds nothing.
 */
export interface OutputFormatter {
  /** Text before the first item ('' for line formats). */
  start(): string;
  /** Text for one input's records. */
  item(item: EnrichedItem): string;
  /** Text that ends the document. Always called, also after an interruption, so the output stays valid. */
  end(footer: RunFooter): string;
}
