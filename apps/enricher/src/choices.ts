/**
 * The values of the CLI's enumerated options, in a module with no imports: cli.ts needs them
 * for `--help` and validation before it knows which command (and which heavy modules) to load.
 */
export const OUTPUT_FORMATS = ['table', 'json', 'jsonl', 'csv', 'stix'] as const;
export const INPUT_FORMATS = ['auto', 'lines', 'jsonl', 'csv'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
