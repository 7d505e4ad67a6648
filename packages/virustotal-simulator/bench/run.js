// Simulator throughput: `pnpm --filter @x/virustotal-simulator bench` (runs dist/, so build first).
// The simulator runs alone in a child process (one Node.js thread: one core; pinned to CPU 0 with
// taskset when available) and autocannon loads it from this process over loopback.
// Prints a table and, last, one JSON line with every figure. Not part of the test suite.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { observableFor, urlBase64Id } from '../dist/index.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const KEY = 'bench-key';

function hasTaskset() {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
}

async function startChild() {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const pinned = hasTaskset();
  const [command, args] = pinned ? ['taskset', ['-c', '0', process.execPath, cli]] : [process.execPath, [cli]];
  const child = spawn(command, [...args, '--port', '0', '--api-key', KEY], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const line = buffer.split('\n')[0];
      if (buffer.includes('\n')) resolve(line.replace('listening on ', ''));
    });
    child.once('exit', (code) => reject(new Error(`vt-sim exited with ${code}`)));
  });
  return { child, url, pinned };
}

/** Paths cycling over `count` distinct observables of every v3 type. */
function v3Paths(count) {
  const paths = [];
  for (let i = 0; i < count; i++) {
    switch (i % 4) {
      case 0:
        paths.push(`/api/v3/ip_addresses/${observableFor({ type: 'ipv6', malicious: i % 20, total: 90, variant: i })}`);
        break;
      case 1:
        paths.push(`/api/v3/domains/${observableFor({ type: 'domain', malicious: i % 20, variant: i })}`);
        break;
      case 2:
        paths.push(`/api/v3/files/${observableFor({ type: 'sha256', malicious: i % 20, variant: i })}`);
        break;
      default:
        paths.push(`/api/v3/urls/${urlBase64Id(`http://host${i}.example.org/path`)}`);
    }
  }
  return paths;
}

/** CPU seconds (user + system) the simulator process has used, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

// The machine may be shared: besides requests per wall-clock second, report requests per CPU
// second of the simulator process, which is what one dedicated core would sustain.
async function run(url, name, paths, headers) {
  const cpuBefore = cpuSeconds(simulatorPid);
  const result = await load(url, name, paths, headers);
  const cpuAfter = cpuSeconds(simulatorPid);
  const cpu = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  return { ...result, simulatorCpuSec: cpu, requestsPerCpuSec: cpu ? Math.round(result.requests / cpu) : null };
}

function load(url, name, paths, headers) {
  let next = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: DURATION,
        headers,
        requests: [
          {
            setupRequest: (request) => {
              request.path = paths[next++ % paths.length];
              return request;
            },
          },
        ],
      },
      (error, result) => {
        if (error) reject(error);
        else
          resolve({
            scenario: name,
            requestsPerSec: Math.round(result.requests.average),
            latencyP50Ms: result.latency.p50,
            latencyP99Ms: result.latency.p99,
            throughputMBps: Number((result.throughput.average / 1e6).toFixed(1)),
            non2xx: result.non2xx,
            errors: result.errors,
            requests: result.requests.total,
          });
      },
    );
  });
}

function readLoadAverage() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}

const { child, url, pinned } = await startChild();
// With taskset, the child is taskset itself until it execs node: the pid stays the same.
const simulatorPid = child.pid;
try {
  const v3Headers = { 'x-apikey': KEY };
  const results = [];
  results.push(await run(url, 'v3 one object (ip_addresses, cached)', ['/api/v3/ip_addresses/198.18.5.70'], v3Headers));
  results.push(await run(url, 'v3 mixed types, 1k distinct objects', v3Paths(1_000), v3Headers));
  // More distinct ids than the body cache holds: most requests generate their object.
  results.push(await run(url, 'v3 mixed types, 200k distinct (uncached)', v3Paths(200_000), v3Headers));
  const hashes = Array.from({ length: 1_000 }, (_, i) => `/vtapi/v2/file/report?apikey=${KEY}&resource=${observableFor({ type: 'md5', malicious: i % 30, variant: i })}`);
  results.push(await run(url, 'v2 file/report, 1k distinct', hashes, {}));

  console.log(`\nVirusTotal simulator: ${CONNECTIONS} connections, ${DURATION}s per scenario, simulator ${pinned ? 'pinned to one core (taskset -c 0)' : 'on one Node.js thread'}, Node ${process.version}\n`);
  console.table(results.map(({ scenario, requestsPerSec, requestsPerCpuSec, latencyP50Ms, latencyP99Ms, throughputMBps, non2xx, errors }) => ({ scenario, 'req/s': requestsPerSec, 'req/CPU-s': requestsPerCpuSec, 'p50 ms': latencyP50Ms, 'p99 ms': latencyP99Ms, 'MB/s': throughputMBps, non2xx, errors })));
  console.log(`load average when done: ${readLoadAverage()}`);
  console.log(JSON.stringify({ bench: 'virustotal-simulator', node: process.version, connections: CONNECTIONS, durationSec: DURATION, pinnedToOneCore: pinned, loadAverage: readLoadAverage(), results }));
} finally {
  child.kill('SIGTERM');
}
