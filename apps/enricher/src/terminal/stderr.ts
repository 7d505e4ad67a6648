/**
 * Everything the CLI says on stderr (log lines, bad-input notes, the estimate) goes through
 * here, so that while a progress bar is drawn the text lands above it instead of inside it.
 */
let above: ((text: string) => void) | undefined;

/** Writes `text` (whole lines) on stderr, above the progress bar when there is one. */
export function writeStderr(text: string): void {
  if (above) above(text);
  else process.stderr.write(text);
}

/** While a bar is shown, stderr text goes to `log` (the bar's `log`); `undefined` ends that. */
export function routeStderr(log: ((text: string) => void) | undefined): void {
  above = log;
}

/** A pino destination writing through `writeStderr`. */
export const stderrDestination = {
  write(text: string): boolean {
    writeStderr(text);
    return true;
  },
};
