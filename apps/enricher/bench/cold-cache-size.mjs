// CPU time (user + system) and wall time of a cached `enrich` cold start against the size of the
// file cache's directory, A/B between builds (docs/performance.md, "The file cache's temporary
// files"). One directory gets N dummy entries (valid-looking `<sha256>.json` files, modification
// time a day ahead: their expiry, so the daily sweep keeps them) beside the cached lookup, and an
// empty `tmp/` (the current layout's usual state); the other holds the cached lookup only. Each
// round runs every build on both, in turn, then `node -e 0`. CPU time is the child's whole life
// (bench/child-rusage.mjs).
//
//   node bench/cold-cache-size.mjs [rounds] [entries] name=path/to/dist/cli.js ...
//   e.g. node bench/cold-cache-size.mjs 21 30000 main=/tmp/main-dist/cli.js branch=dist/cli.js
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSimulator } from '@x/virustotal-simulator';
import { measureNode, runChild, writeVt3Config } from './child-rusage.mjs';

const rounds = Number(process.argv[2] ?? 15);
const entries = Number(process.argv[3] ?? 30_000);
const builds = process.argv.slice(4).map((arg) => arg.split('=')).map(([name, cli]) => ({ name, cli: resolve(cli) }));
if (builds.length === 0) throw new Error('usage: node bench/cold-cache-size.mjs [rounds] [entries] name=dist/cli.js ...');

const dir = await mkdtemp(join(tmpdir(), 'x-enrich-cold-cache-size-'));
const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
try {
  const config = await writeVt3Config(dir, simulator);
  const caches = { [`${entries}`]: join(dir, 'cache-big'), 1: join(dir, 'cache-one') };
  const args = (cli, cache) => [cli, '--config', config, 'enrich', '--cache-dir', cache, '--quiet', '--format', 'jsonl', '8.8.8.8'];
  const xdg = (build) => ({ XDG_CACHE_HOME: join(dir, `xdg-${build.name}`) }); // each build its own code cache

  // The lookup cached by the first build (the entry format is the same in every build).
  for (const cache of Object.values(caches)) {
    await runChild(process.execPath, args(builds[0].cli, cache), { env: xdg(builds[0]), cwd: dir });
    await mkdir(join(cache, 'tmp'), { recursive: true, mode: 0o700 });
  }
  const expiry = new Date(Date.now() + 86_400_000);
  const body = (key) => JSON.stringify({ key, entry: { value: { kind: 'found', pad: 'x'.repeat(900) }, storedAt: Date.now(), expiresAt: expiry.getTime() } });
  for (let start = 0; start < entries; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, entries - start) }, async (_, i) => {
        const key = `vt3:dummy:ipv4:10.${start + i}`;
        const file = join(caches[`${entries}`], `${createHash('sha256').update(key).digest('hex')}.json`);
        await writeFile(file, body(key), { mode: 0o600 });
        await utimes(file, expiry, expiry);
      }),
    );
  }
  await simulator.close(); // cached lookups only from here: a miss would fail
  // Warm-up: each build's code cache written, the daily sweep done (it would keep every entry).
  for (const build of builds) {
    for (const cache of Object.values(caches)) {
      const output = await runChild(process.execPath, args(build.cli, cache), { env: xdg(build), cwd: dir });
      if (!output.includes('"hit":true')) throw new Error(`${build.name}: not a cache hit: ${output.slice(0, 300)}`);
    }
  }
  console.log(`cache directory: ${(await readdir(caches[`${entries}`])).length} names`);

  const samples = new Map();
  const measure = async (label, argv, env) => {
    const { cpuMs: cpu, wallMs: wall } = await measureNode(argv, { env, dir });
    if (!samples.has(label)) samples.set(label, { cpu: [], wall: [] });
    samples.get(label).cpu.push(cpu);
    samples.get(label).wall.push(wall);
  };
  for (let round = 0; round < rounds; round += 1) {
    for (const build of builds) {
      for (const [size, cache] of Object.entries(caches).reverse()) await measure(`${build.name}, ${size} entries`, args(build.cli, cache), xdg(build));
    }
    await measure('node -e 0', ['-e', '0'], {});
  }
  const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
  const show = (values) => `${quantile(values, 0.5).toFixed(0)} [${quantile(values, 0.25).toFixed(0)}–${quantile(values, 0.75).toFixed(0)}]`;
  console.log(`${rounds} rounds; ms, median [p25–p75]`);
  for (const [label, { cpu, wall }] of samples) console.log(`${label.padEnd(28)} CPU ${show(cpu).padEnd(16)} wall ${show(wall)}`);
  console.log(`tmp/ after the runs: ${JSON.stringify(await readdir(join(caches[`${entries}`], 'tmp')))}`);
} finally {
  await simulator.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
