import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, assertBuilt, blocklistConfig, childEnv, collect, runCli, tempDir, type CliResult } from '../helpers/cli.js';

// The built CLI compiles dist/cli-script.cjs through a V8 code cache in the user cache directory
// (src/cli-loader.ts, src/code-cache.ts). A cache only ever speeds a start up: these check that
// no state of it changes what a run does. A hit leaves the file alone; a miss rewrites it at exit.
let tmp: Awaited<ReturnType<typeof tempDir>>;
let config: string;

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir();
  config = await tmp.write('x-enrich.yaml', blocklistConfig(tmp.dir, 'cache: false\n'));
});
afterAll(() => tmp?.cleanup());

const cacheDir = (xdg: string): string => join(xdg, 'x-enrich', 'code-cache');
async function cacheFiles(xdg: string): Promise<string[]> {
  return (await readdir(cacheDir(xdg)).catch(() => [] as string[])).filter((name) => name.endsWith('.v8cache')).sort();
}
/** An outside plugin (by path): its import() comes from the cached script through the loader. Lookup times made equal. */
async function enrich(xdg: string, env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(['--config', config, 'enrich', '--quiet', '--format', 'jsonl', 'evil.example', 'fine.example'], { cwd: tmp.dir, env: { XDG_CACHE_HOME: xdg, ...env } });
  return { ...result, stdout: result.stdout.replace(/"fetchedAt":"[^"]+"/g, '"fetchedAt":"(time)"') };
}

describe('the code cache of the bundled CLI', () => {
  let expected: string;

  it('is written by the first run of a command and used by the next ones, with the same output', async () => {
    const xdg = join(tmp.dir, 'xdg-first');
    const first = await enrich(xdg);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expected = first.stdout;
    expect(expected).toContain('"verdict":"malicious"');
    const [file, ...others] = await cacheFiles(xdg);
    expect(others).toEqual([]);
    expect(file).toMatch(/^[0-9a-f]{16}-enrich-v8-.*\.v8cache$/);
    const written = await readFile(join(cacheDir(xdg), file!));
    const second = await enrich(xdg);
    expect(second).toMatchObject({ code: 0, stderr: '', stdout: expected });
    // A hit: nothing rewritten.
    expect((await readFile(join(cacheDir(xdg), file!))).equals(written)).toBe(true);
    // Another command has its own file (its first run compiles what it needs).
    expect((await runCli(['--version'], { env: { XDG_CACHE_HOME: xdg } })).code).toBe(0);
    expect(await cacheFiles(xdg)).toEqual([file!.replace('-enrich-', '-none-'), file].sort());
  });

  it('rejects a damaged file without a word and writes a good one in its place', async () => {
    const xdg = join(tmp.dir, 'xdg-damaged');
    await enrich(xdg);
    const [file] = await cacheFiles(xdg);
    const path = join(cacheDir(xdg), file!);
    for (const damage of [(data: Buffer) => ((data[data.length >> 1]! ^= 0xff), data), () => Buffer.from('garbage'), (data: Buffer) => data.subarray(0, data.length >> 1)]) {
      const damaged = damage(Buffer.from(await readFile(path)));
      await writeFile(path, damaged);
      expect(await enrich(xdg)).toMatchObject({ code: 0, stderr: '', stdout: expected });
      const rewritten = await readFile(path);
      expect(rewritten.equals(damaged)).toBe(false);
      // ... and the rewritten one is used.
      await enrich(xdg);
      expect((await readFile(path)).equals(rewritten)).toBe(true);
    }
  });

  it('is harmless when the cache directory cannot be created', async () => {
    const blocker = await tmp.write('not-a-directory', '');
    expect(await enrich(join(blocker, 'xdg'))).toMatchObject({ code: 0, stderr: '', stdout: expected });
  });

  it('is off with X_ENRICH_CODE_CACHE=off', async () => {
    const xdg = join(tmp.dir, 'xdg-off');
    expect(await enrich(xdg, { X_ENRICH_CODE_CACHE: 'off' })).toMatchObject({ code: 0, stderr: '', stdout: expected });
    expect(await cacheFiles(xdg)).toEqual([]);
  });

  it('steps aside for --enable-source-maps, so stack traces still map to the sources', async () => {
    const broken = await tmp.write('broken.yaml', 'providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: 5 } }\n');
    const result = await runCli(['--config', broken, 'enrich', '--format', 'jsonl', '8.8.8.8'], {
      cwd: tmp.dir,
      env: { XDG_CACHE_HOME: join(tmp.dir, 'xdg-maps'), X_ENRICH_DEBUG: '1', NODE_OPTIONS: '--enable-source-maps' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/at loadProviders \(.*packages\/core\/src\/plugin\/loader\.ts:\d+:\d+\)/);
  });

  it("is not used by a rebuilt CLI: another script has another key, and runs as built", async () => {
    // A copy of the app whose script then changes, as a rebuild would change it: the same length
    // (V8 itself only compares lengths), another content hash in dist/cli.js.
    const app = join(tmp.dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), await readFile(join(APP_DIR, 'package.json')));
    await cp(join(APP_DIR, 'dist'), join(app, 'dist'), { recursive: true });
    const xdg = join(tmp.dir, 'xdg-rebuilt');
    const cli = join(app, 'dist', 'cli.js');
    const run = async (): Promise<string> => {
      const result = await collect(spawn(process.execPath, [cli, '--help'], { env: childEnv({ XDG_CACHE_HOME: xdg }), stdio: ['pipe', 'pipe', 'pipe'] }));
      expect(result).toMatchObject({ code: 0, stderr: '' });
      return result.stdout;
    };
    expect(await run()).toContain('Threat-intelligence enrichment');
    expect(await run()).toContain('Threat-intelligence enrichment');
    const [before] = await cacheFiles(xdg);
    const script = join(app, 'dist', 'cli-script.cjs');
    const text = await readFile(script, 'utf8');
    await writeFile(script, text.replace('Threat-intelligence enrichment: observables in, verdicts', 'THREAT-INTELLIGENCE ENRICHMENT: observables in, verdicts'));
    const hash = before!.slice(0, 16);
    const entry = await readFile(cli, 'utf8');
    expect(entry).toContain(hash);
    await writeFile(cli, entry.replace(hash, 'feedfacefeedface'));
    expect(await run()).toContain('THREAT-INTELLIGENCE ENRICHMENT');
    expect(await cacheFiles(xdg)).toEqual([before, before!.replace(hash, 'feedfacefeedface')].sort());
  });
});
