#!/usr/bin/env node
import { CommanderError } from 'commander';
import { runCli } from './cli-program.js';

const io = { write: (text: string) => process.stdout.write(text), error: (text: string) => process.stderr.write(text) };

runCli(process.argv.slice(2), io).then(
  (simulator) => {
    if (!simulator) return;
    const stop = () => {
      void simulator.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  (error: unknown) => {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    process.stderr.write(`vt-sim: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
