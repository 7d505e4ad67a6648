#!/usr/bin/env node
// The `x-enrich` bin. pnpm links bins when it installs, which in a fresh clone is before the build:
// a bin pointing into dist/ is then skipped and stays missing until the next install. This file is
// committed, so the bin always links (and `pnpm x-enrich` runs it directly, without pnpm's script
// banner); it runs the built CLI, or says how to build it.
// CommonJS (bin/package.json), like dist/cli.js: a start then never needs Node's ES module loader.
'use strict';
const { existsSync } = require('node:fs');
const module_ = require('node:module');
const { join } = require('node:path');

// Node 22+ keeps V8's compiled code of the entry on disk between runs; Node 20 has no such API
// (this is then a no-op). The CLI itself has its own code cache on every version (dist/cli.js).
module_.enableCompileCache?.();

const cli = join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write(`x-enrich: ${cli} is missing; build it first: pnpm build (or pnpm demo, which builds what it needs)\n`);
  process.exit(1);
}
require(cli);
