// What the GC does on the misses bench's run: 10,000 distinct IPv4 misses, --no-cache, c=64, one
// vt3 instance, against one simulator, with `--trace-gc-nvp`; runs A B B A and prints, per run,
// the scavenges and their summed pause, the mark-compacts, KB allocated and promoted per lookup,
// and the mean KB a scavenge keeps alive in new space (after the 10th: past the start's).
// A scavenge's cost is what it keeps alive, which load moves little: compare those bytes first.
// Usage (from apps/enricher, after a build): node bench/gc-ab.mjs <A cli.js | floor> <B cli.js | floor>
// (`floor` is bench/floors.mjs's bare client, for what a miss could cost).
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '@x/virustotal-simulator';

const LOOKUPS = 10_000;
const FLOORS = join(dirname(fileURLToPath(import.meta.url)), 'floors.mjs');
const [A, B] = process.argv.slice(2, 4);
if (!A || !B) throw new Error('usage: node bench/gc-ab.mjs <A cli.js | floor> <B cli.js | floor>');
const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
const work = await mkdtemp(join(tmpdir(), 'gc-ab-'));
const config = join(work, 'x.yaml');
await writeFile(config, `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false, resilience: { bulkhead: { maxConcurrent: 64 } } }\nconcurrency: 64\n`);

let octet = 100;
async function run(side) {
  octet++; // fresh addresses per run: the simulator generates new objects each time
  const input = join(work, `in-${octet}.txt`);
  await writeFile(input, Array.from({ length: LOOKUPS }, (_, i) => `${octet}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).join('\n') + '\n');
  const argv =
    side === 'floor'
      ? [FLOORS, 'http', simulator.v3Url, 'bench', String(LOOKUPS), '64', String(octet)]
      : [resolve(side), '--config', config, 'enrich', '--no-cache', '--quiet', '--format', 'jsonl', '--concurrency', '64', '--input', input];
  const child = spawn(process.execPath, ['--trace-gc-nvp', ...argv], { cwd: work, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => (out += chunk));
  await new Promise((done) => child.once('exit', done));
  let scavenges = 0;
  let scavengeMs = 0;
  let compacts = 0;
  let compactMs = 0;
  let allocated = 0;
  let promoted = 0;
  const survived = [];
  for (const line of out.split('\n')) {
    if (!line.includes('pause=')) continue; // the CLI's own JSONL goes to stdout too (--quiet: none)
    const field = Object.fromEntries(line.split(/\s+/).filter((part) => part.includes('=')).map((part) => part.split('=')));
    if (field.gc === 's') {
      scavenges++;
      scavengeMs += Number(field.pause);
      survived.push(Number(field.new_space_survived ?? 0));
    } else if (field.gc === 'ms' || field.gc === 'mc') {
      compacts++;
      compactMs += Number(field.pause);
    }
    allocated += Number(field.allocated ?? 0);
    promoted += Number(field.promoted ?? 0);
  }
  const late = survived.slice(10);
  const kb = (bytes) => bytes / 1024;
  return `${side}: scavenges ${scavenges} (${scavengeMs.toFixed(0)} ms), mark-compacts ${compacts} (${compactMs.toFixed(0)} ms), allocated ${kb(allocated / LOOKUPS).toFixed(1)} KB a lookup, promoted ${kb(promoted / LOOKUPS).toFixed(2)} KB a lookup, kept alive ${kb(late.reduce((sum, bytes) => sum + bytes, 0) / Math.max(1, late.length)).toFixed(0)} KB a scavenge`;
}

for (const side of [A, B, B, A]) console.log(await run(side));
await simulator.close?.();
process.exit(0);
