import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-program.js';
import { keyFingerprint, observableFor } from '../src/index.js';
import { v2, v3 } from './helpers.js';

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
    const root = fileURLToPath(new URL('..', import.meta.url));
    // turbo's `test` depends on `build`, so dist/ is current; building here would race other
    // packages' tests that read this dist/ and is slow under CI's parallel load.
    if (!existsSync(join(root, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: run `pnpm --filter @x/virustotal-simulator build` first (pnpm test does)');
    const child = spawn(process.execPath, ['dist/cli.js', '--port', '0', '--api-key', 'KEY', '--quota', '4/min'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const firstLine = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        if (buffer.includes('\n')) resolve(buffer.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`vt-sim exited with ${code}`)));
    });
    expect(firstLine).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = firstLine.replace('listening on ', '');
    const response = await fetch(`${url}/api/v3/domains/clean.example`, { headers: { 'x-apikey': 'KEY' } });
    expect(response.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
