import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-program.js';
import { keyFingerprint, observableFor } from '../src/index.js';
import { builtCli, firstLine, PACKAGE_DIR, spawnCli, stop, v2, v3 } from './helpers.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { write: (t: string) => void out.push(t), error: (t: string) => void err.push(t) }, out, err };
}

describe('vt-sim CLI', () => {
  it('documents every flag in --help', async () => {
    const { io, out } = capture();
    expect(await runCli(['--help'], io)).toBeUndefined();
    const help = out.join('');
    for (const flag of ['--port', '--host', '--api-key', '--quota', '--seed', '--fixtures', '--latency', '--jitter', '--error-rate', '--reset-rate', '--malformed-rate', '--truncate-rate', '--slow-body', '--max-batch']) {
      expect(help).toContain(flag);
    }
  });

  it('prints "listening on http://127.0.0.1:PORT" first and applies keys, quotas and faults', async () => {
    const { io, out } = capture();
    const sim = (await runCli(['--port', '0', '--api-key', 'k1', '--api-key', 'k2', '--quota', '2/min', '--quota', '100/day', '--seed', 'cli', '--truncate-rate', '0'], io))!;
    try {
      expect(out[0]).toBe(`listening on http://127.0.0.1:${sim.port}\n`);
      const ip = observableFor({ type: 'ipv4', malicious: 5 });
      expect((await v3(sim, `/ip_addresses/${ip}`, 'k1')).status).toBe(200);
      expect((await v3(sim, `/ip_addresses/${ip}`, 'k2')).status).toBe(200);
      expect((await v3(sim, `/ip_addresses/${ip}`, 'test-key')).status).toBe(401);
      expect((await v2(sim, 'ip-address/report', { apikey: 'k1', ip })).status).toBe(200);
      expect((await v2(sim, 'ip-address/report', { apikey: 'k1', ip })).status).toBe(204);
      expect(sim.stats().byKey[keyFingerprint('k1')]).toBe(3);
    } finally {
      await sim.close();
    }
  });

  it('rejects a bad quota with the accepted forms', async () => {
    const { io, err } = capture();
    await expect(runCli(['--quota', '4/week'], io)).rejects.toThrow();
    expect(err.join('')).toMatch(/N\/s, N\/min, N\/h or N\/day/);
  });

  it('runs as a binary (dist/cli.js) and stops on SIGTERM', async () => {
    const { child, url } = await spawnCli(['--port', '0', '--api-key', 'KEY', '--quota', '4/min']);
    let exitCode: number | null;
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${url}/api/v3/domains/clean.example`, { headers: { 'x-apikey': 'KEY' } });
      expect(response.status).toBe(200);
    } finally {
      exitCode = await stop(child);
    }
    expect(exitCode).toBe(0);
  });
});

describe('the vt-sim bin', () => {
  it('runs bin/vt-sim.js (the file pnpm links as vt-sim), which runs dist/cli.js', async () => {
    builtCli();
    const child = spawn(process.execPath, [join(PACKAGE_DIR, 'bin/vt-sim.js'), '--port', '0', '--api-key', 'KEY'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let exitCode: number | null;
    try {
      expect(await firstLine(child)).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      exitCode = await stop(child);
    }
    expect(exitCode).toBe(0);
  });
});

describe('vt-sim when its reader goes away (EPIPE)', () => {
  /** A port that was free a moment ago, for a child whose stdout cannot tell us its port. */
  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  async function answers(url: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await fetch(`${url}/api/v3/domains/clean.example`, { headers: { 'x-apikey': 'k' } })).status;
      } catch (error) {
        if (attempt >= 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  it('keeps serving when stdout is closed before it writes, says so once on stderr, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [builtCli(), '--port', '0', '--api-key', 'k'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closing our end before the child has loaded makes its first write fail with EPIPE every
    // time (a reader such as `head -1` closing after the first line only races the second write).
    child.stdout.destroy();
    let stderr = '';
    let exitCode: number | null;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /still serving on (http:\/\/\S+)/.exec(stderr);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`vt-sim exited with ${code}: ${stderr}`)));
      });
      expect(await answers(url)).toBe(200);
      expect(stderr).toBe(`vt-sim: stdout was closed; still serving on ${url} (stop it with SIGINT or SIGTERM)\n`);
    } finally {
      exitCode = await stop(child);
    }
    expect(exitCode).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
  });

  it('keeps serving when stdout and stderr are both closed (`2>&1 | head -1`)', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [builtCli(), '--port', String(port), '--api-key', 'k'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    child.stderr.destroy();
    let exitCode: number | null;
    try {
      expect(await answers(`http://127.0.0.1:${port}`)).toBe(200);
      expect(child.exitCode).toBeNull();
    } finally {
      exitCode = await stop(child);
    }
    expect(exitCode).toBe(0);
  });
});
