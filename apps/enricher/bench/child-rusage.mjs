// Shared by the cold-start A/B scripts (bench/cold-cpu.mjs, bench/cold-cache-size.mjs): running a
// child to its end, and a child's CPU time (user + system) and wall time over its whole life,
// exit handlers included (the CLI writes its code cache at exit). CPU comes from
// getrusage(RUSAGE_CHILDREN) of a small python3 parent (Linux; microseconds): Node has no
// rusage of a child, and measuring from inside (an --import hook, as bench/run.js does for long
// runs) would start the ES module loader that a cached CLI start avoids.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const RUSAGE = [
  'import os, resource, subprocess, sys, time',
  'start = time.monotonic()',
  'code = subprocess.run(sys.argv[1:]).returncode',
  'wall = time.monotonic() - start',
  'r = resource.getrusage(resource.RUSAGE_CHILDREN)',
  'open(os.environ["CPU_FILE"], "w").write(f"{(r.ru_utime + r.ru_stime) * 1000} {wall * 1000}")',
  'sys.exit(code)',
].join('\n');

/** Runs a command to its end; resolves with its output (stdout and stderr), rejects with it on a non-zero exit. */
export function runChild(command, argv, { env = {}, cwd } = {}) {
  return new Promise((done, fail) => {
    const child = spawn(command, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(output) : fail(new Error(`${argv.join(' ')} exited ${code}: ${output}`))));
  });
}

/** `node ...argv` to its end: its CPU time and wall time, in ms. `dir` holds the measurement's scratch file. */
export async function measureNode(argv, { env = {}, dir }) {
  const file = join(dir, 'cpu');
  await runChild('python3', ['-c', RUSAGE, process.execPath, ...argv], { env: { ...env, CPU_FILE: file }, cwd: dir });
  const [cpuMs, wallMs] = (await readFile(file, 'utf8')).split(' ').map(Number);
  return { cpuMs, wallMs };
}

/** A config with one vt3 instance on the simulator; returns its path. */
export async function writeVt3Config(dir, simulator) {
  const config = join(dir, 'x-enrich.yaml');
  await writeFile(config, `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false }\n`);
  return config;
}
