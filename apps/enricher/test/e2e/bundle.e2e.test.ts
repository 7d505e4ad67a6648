import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, assertBuilt, runCli, tempDir } from '../helpers/cli.js';

// The CLI is one esbuild bundle with its own copy of @x/core (scripts/bundle.mjs). These check
// what that must not change: one core per process, and the plugins a config names.
let tmp: Awaited<ReturnType<typeof tempDir>>;
const BUNDLED_CORE = pathToFileURL(join(APP_DIR, 'dist', 'core.mjs')).href;

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir();
});
afterAll(() => tmp?.cleanup());

describe('the bundled CLI', () => {
  it("gives a plugin loaded by path the bundle's @x/core, not the package on disk", async () => {
    const plugin = relative(tmp.dir, join(APP_DIR, 'test', 'fixtures', 'provider-core-copy'));
    const config = await tmp.write('core-copy.yaml', `providers:\n  copy: { use: ${plugin} }\ncache: false\n`);
    const result = await runCli(['--config', config, 'enrich', '--quiet', '--format', 'jsonl', 'example.org'], { cwd: tmp.dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [record] = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { status: string; reasons: Array<{ message: string }> });
    expect(record).toMatchObject({ status: 'ok', reasons: [{ message: BUNDLED_CORE }] });
  });

  it('loads a shipped plugin from the bundle, under the name the config gives', async () => {
    const config = await tmp.write('vt3.yaml', 'providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: k, baseUrl: "http://127.0.0.1:9/api/v3" } }\n');
    const result = await runCli(['--config', config, 'providers', '-f', 'json'], { cwd: tmp.dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject([{ name: 'vt3', packageName: '@x/provider-virustotal-v3', displayName: 'VirusTotal API v3' }]);
  });

  it("prefers the user's own copy of a shipped plugin, installed beside the config, and gives it the bundle's core", async () => {
    // Another "version" of @x/provider-virustotal-v3 in the config's node_modules: it must win,
    // as it does unbundled. There is no @x/core beside it: its import resolves to the bundle's.
    const dir = join(tmp.dir, 'own', 'node_modules', '@x', 'provider-virustotal-v3');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: '@x/provider-virustotal-v3', version: '9.0.0', type: 'module', exports: { '.': { import: './index.js' } } }));
    await writeFile(
      join(dir, 'index.js'),
      `import { definePlugin } from '@x/core';
import { z } from '${pathToFileURL(join(APP_DIR, 'node_modules', 'zod', 'index.js')).href}';
class Own { static inject = []; async enrich() { return { kind: 'found', verdict: 'benign', confidence: null, reasons: [{ rule: 'own', message: import.meta.resolve('@x/core') }], extracted: {}, entities: [] }; } }
export default definePlugin({
  manifest: { id: 'virustotal-v3', packageName: '@x/provider-virustotal-v3', version: '9.0.0', displayName: 'My own v3', description: 'A user copy.', coreRange: '^0.1.0', observableTypes: ['domain'], optionsSchema: z.object({}).passthrough(), defaultCacheTtlMs: {}, defaultRateLimits: [], docsUrl: 'https://example.invalid/own' },
  register(registrar) { registrar.provider(Own); },
});
`,
    );
    const config = join(tmp.dir, 'own', 'x-enrich.yaml');
    await writeFile(config, 'providers:\n  vt3: { use: "@x/provider-virustotal-v3" }\ncache: false\n');
    const listed = await runCli(['--config', config, 'providers', '-f', 'json'], { cwd: tmp.dir });
    expect(JSON.parse(listed.stdout)).toMatchObject([{ name: 'vt3', version: '9.0.0', displayName: 'My own v3' }]);
    const enriched = await runCli(['--config', config, 'enrich', '--format', 'jsonl', 'example.org'], { cwd: tmp.dir });
    expect(enriched.code).toBe(0);
    expect(JSON.parse(enriched.stdout.trim())).toMatchObject({ status: 'ok', reasons: [{ message: BUNDLED_CORE }] });
  });
});
