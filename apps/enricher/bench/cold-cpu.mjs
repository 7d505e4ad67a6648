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
// the child's whole life, exit handlers included (bench/child-rusage.mjs).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '@x/virustotal-simulator';
import { measureNode, runChild, writeVt3Config } from './child-rusage.mjs';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(APP, 'dist', 'cli.js');
const rounds = Number(process.argv[2] ?? 15);
const others = process.argv.slice(3).map((arg) => arg.split('='));

const dir = await mkdtemp(join(tmpdir(), 'x-enrich-cold-cpu-'));
const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
try {
  const config = await writeVt3Config(dir, simulator);
  const variants = [
    { name: 'cached', cli: CLI, env: {} },
    { name: 'off', cli: CLI, env: { X_ENRICH_CODE_CACHE: 'off' } },
    { name: 'miss', cli: CLI, env: {}, before: (xdg) => rm(join(xdg, 'x-enrich', 'code-cache'), { recursive: true, force: true }) },
    ...others.map(([name, cli]) => ({ name, cli, env: {} })),
  ];
  const cpu = new Map(variants.map((variant) => [variant.name, []]));
  cpu.set('node -e 0', []);
  const measure = async (name, argv, env) => cpu.get(name).push((await measureNode(argv, { env, dir })).cpuMs);
  const args = (variant) => [variant.cli, '--config', config, 'enrich', '--cache-dir', join(dir, `cache-${variant.name}`), '--quiet', '--format', 'jsonl', '8.8.8.8'];
  const xdg = (variant) => join(dir, `xdg-${variant.name}`);
  // Warm: the lookup cached and the code cache written.
  for (const variant of variants) await runChild(process.execPath, args(variant), { env: { ...variant.env, XDG_CACHE_HOME: xdg(variant) }, cwd: dir });
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
