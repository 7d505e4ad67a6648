import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, blocklistConfig, collect, startCli, tempDir } from '../helpers/cli.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

describe("serve's request log off a terminal (stderr a pipe)", () => {
  it('writes each request line within a fraction of a second while it runs, and every line by exit', async () => {
    const config = await tmp.write('x-enrich.yaml', blocklistConfig(tmp.dir));
    const child = startCli(['--config', config, '--log-level', 'info', 'serve', '--port', '0'], { cwd: tmp.dir });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const done = collect(child);
    const base = await new Promise<string>((resolve) => {
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(seen);
        if (match) resolve(match[1]!);
      });
    });
    const requestLines = () => stderr.split('\n').filter((line) => line.includes('"req"'));
    // One request: its line arrives while the service keeps running (the batch timer wrote it).
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const started = Date.now();
    while (requestLines().length < 1 && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(requestLines().map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([expect.stringMatching(/^GET \/healthz 200 \d+ ms$/)]);
    // Many more, then stop at once: every line is out by the time the process has exited.
    for (let i = 0; i < 200; i += 1) await fetch(`${base}/healthz?i=${i}`);
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
    expect(requestLines()).toHaveLength(201);
  });
});
