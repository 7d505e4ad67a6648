// Response bodies are untyped JSON: tests assert their shape field by field.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator, type SimulatorOptionsInput } from '../src/index.js';

export const GOOD_KEY = 'test-key';
export const BAD_KEY = 'not-a-key';

/** GET a v3 path with a key (or none) and return status and parsed JSON (undefined when empty). */
export async function v3(sim: Simulator, path: string, key: string | null = GOOD_KEY): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const response = await fetch(`${sim.v3Url}${path}`, { headers: key === null ? {} : { 'x-apikey': key } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, text, headers: response.headers };
}

/** Calls a v2 endpoint with GET query parameters, or POST form when `post` is set. */
export async function v2(sim: Simulator, endpoint: string, params: Record<string, string>, post = false): Promise<{ status: number; body: any; text: string }> {
  const form = new URLSearchParams(params);
  const response = post
    ? await fetch(`${sim.v2Url}/${endpoint}`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    : await fetch(`${sim.v2Url}/${endpoint}?${form}`);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
}

export async function withSimulator<T>(options: SimulatorOptionsInput, run: (sim: Simulator) => Promise<T>): Promise<T> {
  const sim = await startSimulator(options);
  try {
    return await run(sim);
  } finally {
    await sim.close();
  }
}

/** The package folder (where `dist/cli.js` is). */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * The built CLI's path. turbo's `test` depends on `build`, so dist/ is current; building here would
 * race other packages' tests that read this dist/ and is slow under CI's parallel load.
 */
export function builtCli(): string {
  const cli = join(PACKAGE_DIR, 'dist/cli.js');
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `pnpm --filter @x/virustotal-simulator build` first (pnpm test does)');
  return cli;
}

/** Resolves with the first stdout line of a child process, rejects if it exits first. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes('\n')) resolve(buffer.split('\n')[0]!);
    });
    child.once('exit', (code, signal) => reject(new Error(`the process exited (${code ?? signal}) before printing a line; stdout so far: ${JSON.stringify(buffer)}`)));
  });
}

/** Starts `node dist/cli.js ...args` and resolves once it has printed where it listens. */
export async function spawnCli(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [builtCli(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const line = await firstLine(child);
    if (!line.startsWith('listening on ')) throw new Error(`unexpected first line ${JSON.stringify(line)}`);
    return { child, url: line.slice('listening on '.length), stderr: () => stderr };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** Sends SIGTERM (unless it has already exited) and resolves with the exit code. */
export function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}
