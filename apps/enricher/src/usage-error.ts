/**
 * A mistake in how the CLI was called or in what it was given to work with (a flag, a missing
 * file, a CSV without the column, a port already in use): printed as one line without a stack
 * trace, exit code 1.
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
