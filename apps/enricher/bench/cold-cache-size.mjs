// CPU time (user + system) and wall time of a cached `enrich` cold start against the size of the
// file cache's directory, A/B between builds (docs/performance.md, "The file cache's temporary
// files"). One directory gets N dummy entries (valid-looking `<sha256>.json` files, modification
// time a day ahead: their expiry, so the daily sweep keeps them) beside the cached lookup, and an
// empty `tmp/` (the current layout's usual state); the other holds the cached lookup only. Each
// round runs every build on both, in turn, then `node -e 0`. CPU time is the child's whole life,
// from getrusage(RUSAGE_CHILDREN) of a small python3 parent (Linux), as in bench/cold-cpu.mjs.
//
//   node bench/cold-cache-size.mjs [rounds] [entries] name=path/to/dist/cli.js ...
//   e.g. node bench/cold-cache-size.mjs 21 30000 main=/tmp/main-dist/cli.js branch=dist/cli.js
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSimulator } from '@x/virustotal-simulator';

const RUSAGE = [
  'import os, resource, subprocess, sys, time',
  'start = time.monotonic()',
  'code = subprocess.run(sys.argv[1:]).returncode',
  'wall = time.monotonic() - start',
  'r = resource.getrusage(resource.RUSAGE_CHILDREN)',
  'open(os.environ["CPU_FILE"], "w").write(f"{(r.ru_utime + r.ru_stime) * 1000} {wall * 1000}")',
  'sys.exit(code)',
].join('\n');
const rounds = Number(process.argv[2] ?? 15);
const entries = Number(process.argv[3] ?? 30_000);
const builds = process.argv.slice(4).map((arg) => arg.split('=')).map(([name, cli]) => ({ name, cli: resolve(cli) }));
if (builds.length === 0) throw new Error('usage: node bench/cold-cache-size.mjs [rounds] [entries] name=dist/cli.js ...');

/** Runs a command to its end; its output (stdout and stderr), or an error with it. */
function run(command, argv, env, cwd) {
  return new Promise((done, fail) => {
    const child = spawn(command, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(output) : fail(new Error(`${argv.join(' ')} exited ${code}: ${output}`))));
  });
}

const dir = await mkdtemp(join(tmpdir(), 'x-enrich-cold-cache-size-'));
const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
try {
  const config = join(dir, 'x-enrich.yaml');
  await writeFile(config, `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false }\n`);
  const caches = { [`${entries}`]: join(dir, 'cache-big'), 1: join(dir, 'cache-one') };
  const args = (cli, cache) => [cli, '--config', config, 'enrich', '--cache-dir', cache, '--quiet', '--format', 'jsonl', '8.8.8.8'];
  const xdg = (build) => ({ XDG_CACHE_HOME: join(dir, `xdg-${build.name}`) }); // each build its own code cache

  // The lookup cached by the first build (the entry format is the same in every build).
  for (const cache of Object.values(caches)) {
    await run(process.execPath, args(builds[0].cli, cache), xdg(builds[0]), dir);
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
      const output = await run(process.execPath, args(build.cli, cache), xdg(build), dir);
      if (!output.includes('"hit":true')) throw new Error(`${build.name}: not a cache hit: ${output.slice(0, 300)}`);
    }
  }
  console.log(`cache directory: ${(await readdir(caches[`${entries}`])).length} names`);

  const samples = new Map();
  const measure = async (label, argv, env) => {
    const file = join(dir, 'cpu');
    await run('python3', ['-c', RUSAGE, process.execPath, ...argv], { ...env, CPU_FILE: file }, dir);
    const [cpu, wall] = (await readFile(file, 'utf8')).split(' ').map(Number);
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
