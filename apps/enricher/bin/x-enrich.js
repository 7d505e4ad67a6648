#!/usr/bin/env node
// The `x-enrich` bin. pnpm links bins when it installs, which in a fresh clone is before the build:
// a bin pointing into dist/ is then skipped and stays missing until the next install. This file is
// committed, so the bin always links (and `pnpm x-enrich` runs it directly, without pnpm's script
// banner); it runs the built CLI, or says how to build it.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// Node 22+ keeps V8's compiled code of the bundle on disk between runs, which shortens every start
// after the first; Node 20 has no such API (this is then a no-op).
module.enableCompileCache?.();

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(`x-enrich: ${fileURLToPath(cli)} is missing; build it first: pnpm build (or pnpm demo, which builds what it needs)\n`);
  process.exit(1);
}
await import(cli.href);
