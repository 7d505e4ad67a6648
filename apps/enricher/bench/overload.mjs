// The overload figure of docs/operations/reliability.md: `x-enrich serve` (built) at the default
// config against the simulator, 100 parallel requests of 50 new IPs each. Requests past the
// bulkheads' bound get 503 + Retry-After and are sent again; the figure is the error records.
//   node bench/overload.mjs                 (from apps/enricher, after a build)
//   REQUESTS=100 PER_REQUEST=50 node bench/overload.mjs
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '@x/virustotal-simulator';
import { parallelEnrich } from './parallel-load.mjs';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(APP, 'dist', 'cli.js');
const REQUESTS = Number(process.env.REQUESTS ?? 100);
const PER_REQUEST = Number(process.env.PER_REQUEST ?? 50);

const dir = await mkdtemp(join(tmpdir(), 'x-enrich-overload-'));
const simulator = await startSimulator({ port: 0, apiKeys: ['bench'] });
const config = join(dir, 'x-enrich.yaml');
await writeFile(config, `providers:\n  vt3: { use: "@x/provider-virustotal-v3", options: { apiKey: bench, baseUrl: "${simulator.v3Url}" }, rateLimit: false }\n`);
const child = spawn(process.execPath, [CLI, '--config', config, '--log-level', 'warn', 'serve', '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
try {
  const base = await new Promise((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const started = Date.now();
  const result = await parallelEnrich({ url: base, requests: REQUESTS, perRequest: PER_REQUEST, observable: (i) => `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
  console.log(JSON.stringify({ requests: REQUESTS, perRequest: PER_REQUEST, ...result, elapsedMs: Date.now() - started }, null, 2));
  if (result.errorRecords) process.exitCode = 1;
} finally {
  child.kill('SIGTERM');
  await simulator.close();
  await rm(dir, { recursive: true, force: true });
}
