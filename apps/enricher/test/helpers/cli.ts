import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(APP_DIR, 'dist', 'cli.js');
export const EXAMPLES_DIR = join(APP_DIR, '..', '..', 'examples');

/** The e2e tests drive the built CLI; `pnpm test` builds it first (turbo's test dependsOn build). */
export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm --filter @x/enricher build\` (pnpm test does it for you)`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: string;
  timeoutMs?: number;
}

/** Environment for a child: no inherited x-enrich settings, no colour, a private HOME/XDG cache. */
export function childEnv(extra: Record<string, string | undefined> = {}, home?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  for (const key of Object.keys(env)) if (key.startsWith('X_ENRICH_') || key.startsWith('VT_SIMULATOR')) delete env[key];
  // Never touch the user's real cache, even if a test forgets --cache-dir.
  env.XDG_CACHE_HOME = join(home ?? tmpdir(), `x-enrich-e2e-cache-${process.pid}`);
  if (home) env.HOME = home;
  return { ...env, ...extra };
}

export function startCli(args: readonly string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? APP_DIR, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
}

export function collect(child: ChildProcess, options: CliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  else child.stdin!.end();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`x-enrich did not exit within ${options.timeoutMs ?? 30_000} ms\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Resolves with the base URL once `serve` prints its `listening on URL` line; rejects if it exits first. */
export function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
  });
}

/** Runs `x-enrich ARGS` to completion. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return collect(startCli(args, options), options);
}

/** A temporary directory with helpers to write configs into it; `cleanup()` removes it. */
export async function tempDir(prefix = 'x-enrich-e2e-'): Promise<{ dir: string; write(name: string, text: string): Promise<string>; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    dir,
    async write(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A config (YAML) loading the example blocklist plugin by a relative path, as a user would. */
export function blocklistConfig(configDir: string, extra = ''): string {
  const plugin = relative(configDir, join(EXAMPLES_DIR, 'provider-dns-blocklist'));
  return `providers:
  blocklist:
    use: "${plugin.startsWith('.') ? plugin : `./${plugin}`}"
    options:
      listName: test list
      malicious: [evil.example, 203.0.113.66]
      suspicious: [odd.example]
    rateLimit: false
${extra}`;
}

/** Starts `serve --port 0` and resolves `base` with its URL once it prints `listening on`. */
export function startServe(config: string, options: { cwd: string; env?: Record<string, string>; args?: readonly string[] }): { child: ChildProcess; exited: Promise<CliResult>; base: Promise<string> } {
  const started = startCli(['--config', config, '--log-level', 'warn', 'serve', '--port', '0', ...(options.args ?? [])], { cwd: options.cwd, env: options.env });
  const done = collect(started, { timeoutMs: 600_000 });
  const url = new Promise<string>((resolve, reject) => {
    let seen = '';
    started.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve(match[1]!);
    });
    started.once('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
  });
  return { child: started, exited: done, base: url };
}
