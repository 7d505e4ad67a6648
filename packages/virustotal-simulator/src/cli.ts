#!/usr/bin/env node
import { CommanderError } from 'commander';
import { runCli } from './cli-program.js';

// stdout carries only the start-up lines, which a script may read and then close
// (`vt-sim ... | head -1`, a supervisor that keeps the port and drops the pipe). The server is
// still what the reader wanted, so a closed stdout (EPIPE) is not fatal: vt-sim stops writing
// there, says once on stderr where it is still serving, and runs until SIGINT/SIGTERM.
// A closed stderr is ignored too (`2>&1 | head -1` closes both). Other stream errors still crash.
const closed = { stdout: false, stderr: false };
let servingUrl: string | undefined;
let noted = false;

function noteClosedStdout(): void {
  // The EPIPE can arrive before or after the server has started: note it once both are known.
  if (noted || !closed.stdout || servingUrl === undefined) return;
  noted = true;
  writeErr(`vt-sim: stdout was closed; still serving on ${servingUrl} (stop it with SIGINT or SIGTERM)\n`);
}

function writeErr(text: string): void {
  if (!closed.stderr) process.stderr.write(text);
}

for (const name of ['stdout', 'stderr'] as const) {
  process[name].on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    closed[name] = true;
    if (name === 'stdout') noteClosedStdout();
  });
}

const io = {
  write: (text: string) => {
    if (!closed.stdout) process.stdout.write(text);
  },
  error: writeErr,
};

// Signal handlers go in before the server starts: the "listening on" line is written before
// runCli resolves, and a supervisor may stop us the moment it reads it.
let simulator: Awaited<ReturnType<typeof runCli>>;
let stopRequested = false;
const stop = (): void => {
  stopRequested = true;
  if (simulator) void simulator.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

runCli(process.argv.slice(2), io).then(
  (started) => {
    if (!started) {
      if (stopRequested) process.exit(0);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      return;
    }
    simulator = started;
    servingUrl = started.url;
    noteClosedStdout();
    if (stopRequested) stop();
  },
  (error: unknown) => {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    writeErr(`vt-sim: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
