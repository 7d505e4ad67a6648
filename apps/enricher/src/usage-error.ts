/**
 * A mistake in how the CLI was called (a flag, a missing file, a CSV without the column):
 * printed as one line without a stack trace, exit code 1.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function isUsageError(error: unknown): error is UsageError {
  return error instanceof Error && error.name === 'UsageError';
}
