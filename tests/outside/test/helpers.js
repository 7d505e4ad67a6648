import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Every package a user can install, by directory (the order npm needs nothing from). */
export const PUBLIC_PACKAGES = ['packages/core', 'packages/provider-virustotal-v3', 'packages/provider-virustotal-v2', 'packages/provider-http', 'packages/store-redis', 'packages/virustotal-simulator', 'apps/enricher'];

/**
 * The environment of a user's shell: what pnpm and vitest set for this run (npm_config_*,
 * the workspace's settings, NODE_OPTIONS, X_ENRICH_*) would make npm or the app behave as
 * they never do for a user.
 */
export function userEnv(extra = {}) {
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  for (const key of Object.keys(env)) {
    if (/^(npm_|pnpm_|NODE_OPTIONS$|NODE_PATH$|VITEST|X_ENRICH_|VT_SIMULATOR)/i.test(key)) delete env[key];
  }
  return { ...env, ...extra };
}

/**
 * Runs a command to its end and resolves with its output; rejects with both streams when it
 * exits non-zero (unless `allowFailure`), so a failed npm install says why.
 */
export function run(command, args, { cwd, env, allowFailure = false, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env ?? userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr };
      if (code !== 0 && !allowFailure) reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${code}\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`));
      else resolve(result);
    });
  });
}
