import { ExitCode } from './exit-codes.js';
import { isUsageError } from './usage-error.js';

/** Writes text to stdout and resolves once it is handed to the OS (so exiting cannot cut it). */
export function writeOut(text: string, stream: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (!text) return Promise.resolve();
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/** One line (or a headline and its issues) for people: never a stack trace unless X_ENRICH_DEBUG is set. */
export async function describeError(error: unknown): Promise<string> {
  // Imported here, not at the top: `--help` and `--version` should not pay for loading core.
  const { isValidationError, isXEnrichError } = await import('@x/core');
  if (isValidationError(error)) return `${error.message}\n(${error.code})`;
  if (isXEnrichError(error)) return `${error.message} (${error.code})`;
  if (isUsageError(error)) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `unexpected error: ${message}\nThis is a bug in x-enrich; rerun with X_ENRICH_DEBUG=1 for the stack trace and report it.`;
}

const isBrokenPipe = (error: unknown): boolean => (error as NodeJS.ErrnoException | null)?.code === 'EPIPE';

/**
 * stdout failed. `x-enrich demo | head`: the reader left (EPIPE); what it read is what it
 * wanted, so stop at once and quietly (exit 0): nothing more would be read, and lookups still
 * running would only spend quota for nobody. Any other failure means the output is incomplete:
 * say so in one line, exit 1.
 */
function onStdoutError(error: NodeJS.ErrnoException): void {
  if (isBrokenPipe(error)) process.exit(ExitCode.Ok);
  process.stderr.write(`x-enrich: cannot write to standard output: ${error.message}; the output is incomplete\n`);
  process.exit(ExitCode.Usage);
}

/**
 * Runs a command and exits with its code. Any error ends the process with exit code 1 and a
 * readable message on stderr (every config problem with its path), not a stack trace. A closed
 * stdout (EPIPE) ends every command quietly, here rather than in each command.
 */
export async function runCommand(command: () => Promise<number | void>): Promise<void> {
  // Both paths are needed: the stream emits `error` (unhandled, it crashes with a stack trace)
  // and the write's callback rejects writeOut (which the command would rethrow).
  process.stdout.on('error', onStdoutError);
  // stderr gone (the terminal was closed: SIGHUP, then EIO; or `2>&1 | head`): there is nobody
  // left to tell, and crashing on it would stop a run before it closes its output document.
  process.stderr.on('error', () => undefined);
  let code: number;
  try {
    code = (await command()) ?? ExitCode.Ok;
  } catch (error) {
    if (isBrokenPipe(error)) process.exit(ExitCode.Ok);
    process.stderr.write(`x-enrich: ${await describeError(error)}\n`);
    if (process.env.X_ENRICH_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    code = ExitCode.Usage;
  }
  // Exit explicitly: a provider's keep-alive socket or a store's timer must not keep a finished CLI alive.
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}
