// Runs N worker processes at once against one Redis and one upstream, and collects what each
// did. Used by the bench (`pnpm bench`) and by test/fleet.test.ts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

function startWorker(config) {
  const child = spawn(process.execPath, [WORKER], {
    env: { ...process.env, X_FLEET_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const messages = [];
  const waiters = [];
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      try {
        const message = JSON.parse(line);
        messages.push(message);
        for (const waiter of waiters.splice(0)) waiter();
      } catch {
        // Not ours (a stray log line): ignore.
      }
    }
  });
  const exited = new Promise((resolve) => child.once('exit', (code) => { resolve(code); for (const waiter of waiters.splice(0)) waiter(); }));
  let exitCode;
  exited.then((code) => (exitCode = code));

  async function next(type, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find((message) => message.type === type);
      if (found) return found;
      if (exitCode !== undefined) throw new Error(`fleet worker ${child.pid} exited with ${exitCode} before "${type}":\n${stderr.slice(-4000)}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`fleet worker ${child.pid} sent no "${type}" within ${timeoutMs} ms:\n${stderr.slice(-4000)}`);
      }
      await new Promise((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
  return { child, next, exited, kill: () => child.kill('SIGKILL') };
}

/**
 * @param {object} options
 * @param {number} options.processes
 * @param {(index: number) => string[]} options.observablesFor  the inputs of process `index`
 * @param {Record<string, unknown>} options.worker  the rest of the worker config
 * @param {number} [options.timeoutMs]
 */
export async function runFleet({ processes, observablesFor, worker, timeoutMs = 120_000 }) {
  const workers = Array.from({ length: processes }, (_, index) => startWorker({ ...worker, observables: observablesFor(index) }));
  try {
    await Promise.all(workers.map((w) => w.next('ready', 30_000)));
    const started = performance.now();
    for (const w of workers) w.child.stdin.write('go\n');
    const results = await Promise.all(workers.map((w) => w.next('done', timeoutMs)));
    const wallMs = performance.now() - started;
    await Promise.all(workers.map((w) => w.exited));
    return { wallMs, results };
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.kill();
  }
}

/** `count` distinct observables (IPv4 addresses from a test range), the same for every call with the same `salt`. */
export function observables(count, salt = 0) {
  return Array.from({ length: count }, (_, i) => `198.${18 + (salt % 2)}.${Math.floor(i / 250)}.${(i % 250) + 1}`);
}

/** A deterministic shuffle, so each process asks in a different order. */
export function shuffled(items, seed) {
  const copy = [...items];
  let state = seed * 2_654_435_761 + 1;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/**
 * The same with the real `x-enrich` CLI (apps/enricher/dist/cli.js): `processes` runs of
 * `x-enrich enrich --format jsonl --input FILE` at once, all with one config file.
 * @returns {Promise<{ wallMs: number, results: Array<{ code: number, records: number, statuses: Record<string, number>, summary: string }>}>}
 */
export async function runCliFleet({ cli, config, processes, observablesFor, dir, timeoutMs = 300_000 }) {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const configFile = join(dir, 'x-enrich.yaml');
  writeFileSync(configFile, config);
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: processes }, (_, i) => {
      const input = join(dir, `input-${i}.txt`);
      writeFileSync(input, `${observablesFor(i).join('\n')}\n`);
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [cli, '--config', configFile, 'enrich', '--format', 'jsonl', '--input', input], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`x-enrich run ${i} did not finish in ${timeoutMs} ms:\n${stderr.slice(-2000)}`));
        }, timeoutMs);
        child.once('exit', (code) => {
          clearTimeout(timer);
          const statuses = {};
          const lines = stdout.split('\n').filter((line) => line.trim());
          for (const line of lines) {
            const record = JSON.parse(line);
            const status = `${record.status}${record.cache?.hit ? ' (cache)' : ''}`;
            statuses[status] = (statuses[status] ?? 0) + 1;
          }
          resolve({ code, records: lines.length, statuses, summary: stderr.trim().split('\n').at(-1) ?? '' });
        });
      });
    }),
  );
  return { wallMs: performance.now() - started, results };
}
