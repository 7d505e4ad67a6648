import { spawn, spawnSync } from 'node:child_process';

/**
 * Prometheus's own linter for the text exposition format: `promtool check metrics` (Debian's
 * `prometheus` package; `.ci/run` installs it when missing). Locally without it the caller
 * skips with a loud warning; in CI (CI=true) a missing promtool fails instead, so the check can
 * never silently stop running.
 */
export function promtoolAvailable(): boolean {
  const found = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
  if (found) return true;
  const message = 'promtool (Debian package `prometheus`) is not installed: the /metrics exposition-format checks cannot run. Install it: apt-get install --no-install-recommends prometheus';
  if (process.env.CI && process.env.CI !== 'false') throw new Error(`${message} (CI=true: failing instead of skipping)`);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: ${message}\n${'!'.repeat(100)}\n`);
  return false;
}

/** Runs `promtool check metrics` on `text`; resolves with its exit code and what it said. */
export function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}
