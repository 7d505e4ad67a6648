import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtCli, firstLine, PACKAGE_DIR } from './helpers.js';

const REPO_ROOT = join(PACKAGE_DIR, '../..');

/**
 * The environment of a developer's shell: the pnpm that runs this test exports npm_* settings
 * (an inherited npm_config_reporter=silent would hide the very header this test is about) and
 * puts node_modules/.bin folders on PATH; neither is there when someone types the command.
 */
function shellEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm|pnpm)_/i.test(name)));
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes(join('node_modules', '.bin')) && !dir.includes('node-gyp-bin'))
    .join(delimiter);
  return env;
}

describe('pnpm vt-sim from the repository root', () => {
  it('prints "listening on http://127.0.0.1:PORT" as the first stdout line', async () => {
    builtCli();
    // Exactly the documented command. Its own process group, so that pnpm and the vt-sim it
    // runs are stopped together.
    const child = spawn('pnpm', ['vt-sim', '--port', '0', '--api-key', 'KEY', '--quota', '4/min'], {
      cwd: REPO_ROOT,
      env: shellEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let url = '';
    try {
      const line = await firstLine(child).catch((error: Error) => {
        throw new Error(`${error.message}; stderr: ${stderr}`);
      });
      expect(line).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
      url = line.slice('listening on '.length);
      expect((await fetch(`${url}/api/v3/domains/clean.example`, { headers: { 'x-apikey': 'KEY' } })).status).toBe(200);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    // Nothing left behind: the server goes away with pnpm. pnpm exits at once on SIGTERM, and
    // vt-sim (its child, same group) closes its server a moment later, later still on a loaded
    // machine (a fetch right after pnpm's exit was answered there): wait for the server to go.
    // One that stays makes this test time out.
    for (;;) {
      const answered = await fetch(`${url}/__sim/stats`).then(
        () => true,
        () => false,
      );
      if (!answered) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
