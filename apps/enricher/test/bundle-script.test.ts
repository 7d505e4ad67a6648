import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BUNDLED, BUNDLED_PLUGINS, bundledPluginFile } from '../src/bundled-plugins.js';

const APP_DIR = join(import.meta.dirname, '..');
const execFileAsync = promisify(execFile);

describe('the bundle', () => {
  it('builds an entry for every plugin the app loads from it, under the same file name', async () => {
    const script = (await import(pathToFileURL(join(APP_DIR, 'scripts', 'bundle.mjs')).href)) as { BUNDLED_PLUGINS: Record<string, string> };
    expect(script.BUNDLED_PLUGINS).toEqual(BUNDLED_PLUGINS);
  });

  it('carries every one of those plugins in the CLI script, under the same file name', async () => {
    const { shipped } = await import('../src/cli-script.js');
    expect(Object.keys(shipped).sort()).toEqual(Object.values(BUNDLED_PLUGINS).sort());
  });

  it('leaves the sources alone: they import the packages like any host', () => {
    expect(BUNDLED).toBe(false);
    expect(bundledPluginFile('@x/provider-virustotal-v3', APP_DIR)).toBeUndefined();
  });
});

describe("the bundle's lazy requires (scripts/bundle.mjs LAZY_REQUIRES)", () => {
  it("keep commander's executable subcommands, pino's transport option and asynchronous destinations working, loaded on first use", async () => {
    const script = (await import(pathToFileURL(join(APP_DIR, 'scripts', 'bundle.mjs')).href)) as { lazyRequires: Plugin };
    const dir = await mkdtemp(join(tmpdir(), 'x-enrich-lazy-requires-'));
    try {
      const sub = join(dir, 'sub.cjs');
      await writeFile(sub, "console.log('subcommand ran');\n");
      const entry = join(dir, 'entry.mjs');
      await writeFile(
        entry,
        `import pino from 'pino';
import { Command } from 'commander';
const loaded = (name) => process.moduleLoadList.includes('NativeModule ' + name);
const atStart = { childProcess: loaded('child_process'), workerThreads: loaded('worker_threads'), assert: loaded('assert') };
// A transport needs thread-stream's worker file on disk, which no bundle has (nor had before
// the lazy require): what matters here is that the option still reaches pino's transport(),
// whose own check answers first.
let reached = 'no error';
try {
  pino({ transport: { target: 'pino/file', targets: [] } });
} catch (error) {
  reached = error.message;
}
// An asynchronous destination reads isMainThread (to flush at exit) and asserts on close.
const destination = pino.destination({ dest: ${JSON.stringify(join(dir, 'log.txt'))}, sync: false });
pino(destination).info('to the file');
await new Promise((resolve) => destination.once('ready', resolve));
destination.end();
await new Promise((resolve) => destination.once('close', resolve));
const afterDestination = { workerThreads: loaded('worker_threads'), assert: loaded('assert') };
console.log(JSON.stringify({ atStart, transport: pino.transport.name, reached, afterDestination }));
const program = new Command().command('sub', 'an executable subcommand', { executableFile: ${JSON.stringify(sub)} });
// With a description, .command() declares an executable subcommand and returns the program.
program.parse(['node', 'x', 'sub']);
`,
      );
      // Resolved from the app, like the real bundle's pino and commander.
      await build({ entryPoints: [entry], outfile: join(dir, 'out.mjs'), bundle: true, format: 'esm', platform: 'node', absWorkingDir: APP_DIR, nodePaths: [join(APP_DIR, 'node_modules')], plugins: [script.lazyRequires], banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" }, logLevel: 'silent' });
      const { stdout } = await execFileAsync(process.execPath, [join(dir, 'out.mjs')], { cwd: dir, timeout: 20_000 });
      const lines = stdout.trim().split('\n');
      expect(JSON.parse(lines.find((line) => line.startsWith('{"atStart"')) ?? '{}')).toEqual({
        atStart: { childProcess: false, workerThreads: false, assert: false },
        transport: 'transport',
        reached: 'only one of target or targets can be specified',
        afterDestination: { workerThreads: true, assert: true },
      });
      expect(await readFile(join(dir, 'log.txt'), 'utf8')).toContain('"msg":"to the file"');
      expect(lines).toContain('subcommand ran');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
