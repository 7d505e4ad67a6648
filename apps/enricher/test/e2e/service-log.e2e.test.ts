import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, assertBuilt } from '../helpers/cli.js';

const LOGGER = pathToFileURL(join(APP_DIR, 'dist', 'logger.js')).href;

/** Runs `script` (an ES module with createAppLogger in scope) in its own process; stderr is a pipe. */
function run(script: string, onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { createAppLogger } from '${LOGGER}';\n${script}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    onStderr?.(stderr, child);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

beforeAll(assertBuilt);

describe("the service's buffered log off a terminal", () => {
  it('writes every line, in order, by the time the process exits', async () => {
    const { code, stderr } = await run(`const log = createAppLogger({ level: 'info', bufferMs: 60_000 });
for (let i = 0; i < 1000; i += 1) log.info({ i }, 'POST /v1/enrich 200 0 ms');
process.exitCode = 3;`);
    expect(code).toBe(3);
    const lines = stderr.trim().split('\n').map((line) => JSON.parse(line) as { i: number; msg: string });
    expect(lines.map((line) => line.i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(lines[0]?.msg).toBe('POST /v1/enrich 200 0 ms');
  });

  it('writes a lone line within bufferMs while the process keeps running', async () => {
    let seenAt = 0;
    const started = Date.now();
    await run(
      `const log = createAppLogger({ level: 'info', bufferMs: 50 });
log.info('one line');
setTimeout(() => undefined, 20_000);`,
      (text, child) => {
        if (!seenAt && text.includes('one line')) {
          seenAt = Date.now();
          child.kill('SIGKILL');
        }
      },
    );
    // Seen before the process ended (it was killed, so no exit flush): the timer wrote it.
    expect(seenAt).toBeGreaterThan(0);
    expect(seenAt - started).toBeLessThan(10_000);
  });
});
