// CPU time (user + system) of a cached `enrich` cold start, A/B: on a shared machine wall-clock
// medians move with the load, CPU time much less (docs/performance.md, "Cold start: the V8 code
// cache"). Each round runs every variant once, in turn, then `node -e 0`.
//
//   node bench/cold-cpu.mjs [rounds] [name=path/to/dist/cli.js ...]
//
// Variants of this build (dist/cli.js): `cached` (a valid code cache), `off` (X_ENRICH_CODE_CACHE=off:
// compiled without a cache, none written), `miss` (the cache removed before each run: compiled
// without one, and one written at exit). Each name=path adds another build (e.g. main's), run as is.
// Every run's code cache lives in its own XDG_CACHE_HOME, so builds never share one. CPU time is
// the child's whole life, exit handlers included (the code cache is written at exit), from
// getrusage(RUSAGE_CHILDREN) of a small python3 parent (Linux; microseconds).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '@x/virustotal-simulator';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(APP, 'dist', 'cli.js');
const RUSAGE = 'import os, resource, subprocess, sys\ncode = subprocess.run(sys.argv[1:]).returncode\nr = resource.getrusage(resource.RUSAGE_CHILDREN)\nopen(os.environ["CPU_FILE"], "w").write(str((r.ru_utime + r.ru_stime) * 1000))\nsys.exit(code)';
const rounds = Number(process.argv[2] ?? 15);
const others = process.argv.slice(3).map((arg) => arg.split('='));

function run(argv, env, cwd, command = process.execPath) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}: ${stderr}`))));
  });
}

const dir = await mkdtemp(join(tmpdir(), 'x-enrich-cold-cpu-'));
const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
try {
  const config = join(dir, 'x-enrich.yaml');
  await writeFile(config, `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false }\n`);
  const variants = [
    { name: 'cached', cli: CLI, env: {} },
    { name: 'off', cli: CLI, env: { X_ENRICH_CODE_CACHE: 'off' } },
    { name: 'miss', cli: CLI, env: {}, before: (xdg) => rm(join(xdg, 'x-enrich', 'code-cache'), { recursive: true, force: true }) },
    ...others.map(([name, cli]) => ({ name, cli, env: {} })),
  ];
  const cpu = new Map(variants.map((variant) => [variant.name, []]));
  cpu.set('node -e 0', []);
  const measure = async (name, argv, env) => {
    const file = join(dir, 'cpu');
    await run(['-c', RUSAGE, process.execPath, ...argv], { ...env, CPU_FILE: file }, dir, 'python3');
    cpu.get(name).push(Number(await readFile(file, 'utf8')));
  };
  const args = (variant) => [variant.cli, '--config', config, 'enrich', '--cache-dir', join(dir, `cache-${variant.name}`), '--quiet', '--format', 'jsonl', '8.8.8.8'];
  const xdg = (variant) => join(dir, `xdg-${variant.name}`);
  // Warm: the lookup cached and the code cache written.
  for (const variant of variants) await run(args(variant), { ...variant.env, XDG_CACHE_HOME: xdg(variant) }, dir);
  for (let round = 0; round < rounds; round += 1) {
    for (const variant of variants) {
      await variant.before?.(xdg(variant));
      await measure(variant.name, args(variant), { ...variant.env, XDG_CACHE_HOME: xdg(variant) });
    }
    await measure('node -e 0', ['-e', '0'], {});
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  const rows = [...cpu].map(([name, values]) => ({
    variant: name,
    'cpu median ms': Number(median(values).toFixed(1)),
    'cpu mean ms': Number(mean(values).toFixed(1)),
  }));
  console.table(rows);
  console.log(JSON.stringify({ rounds, cpu: Object.fromEntries(cpu) }));
} finally {
  await simulator.close();
  await rm(dir, { recursive: true, force: true });
}
