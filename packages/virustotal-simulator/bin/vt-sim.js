#!/usr/bin/env node
// The `vt-sim` bin. pnpm links bins when it installs, which in a fresh clone is before the build:
// a bin pointing into dist/ is then skipped ("Failed to create bin ... ENOENT", once per package
// that depends on this one) and stays missing after the build until the next install. This file
// is committed, so the bin always links; it runs the built CLI, or says how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(`vt-sim: ${fileURLToPath(cli)} is missing; build it first: pnpm --filter @x/virustotal-simulator build\n`);
  process.exit(1);
}
await import(cli.href);
