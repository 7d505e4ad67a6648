// A stand-in for a quota-limited intel API (used until the VirusTotal simulator is wired in):
// `GET /lookup/<value>` with `x-apikey`, a per-key quota counted in fixed windows (like
// VirusTotal's per-minute quota), 429 once a window is spent. It counts every call, so the
// fleet harness can check "upstream calls == distinct observables" and "zero 429".
import { createServer } from 'node:http';
import { once } from 'node:events';

/**
 * @param {{ quota: { requests: number, perMs: number }, latencyMs?: number }} options
 */
export async function startQuotaUpstream({ quota, latencyMs = 2 }) {
  const windows = new Map(); // apiKey -> { start, used }
  const calls = new Map(); // observable -> count
  let total = 0;
  let refused = 0;
  const timeline = []; // arrival times of served calls (ms since start), for throughput

  const started = Date.now();
  const server = createServer((request, response) => {
    const key = request.headers['x-apikey'];
    const match = /^\/lookup\/(.+)$/.exec(request.url ?? '');
    if (!match || typeof key !== 'string') {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad request"}');
      return;
    }
    total++;
    const now = Date.now();
    const windowStart = now - (now % quota.perMs);
    let window = windows.get(key);
    if (!window || window.start !== windowStart) windows.set(key, (window = { start: windowStart, used: 0 }));
    if (window.used >= quota.requests) {
      refused++;
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(Math.ceil((windowStart + quota.perMs - now) / 1000)) });
      response.end('{"error":"QuotaExceededError"}');
      return;
    }
    window.used++;
    const value = decodeURIComponent(match[1]);
    calls.set(value, (calls.get(value) ?? 0) + 1);
    timeline.push(now - started);
    setTimeout(() => {
      // Deterministic verdicts: a stable hash of the value.
      let hash = 0;
      for (const char of value) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
      const verdict = ['benign', 'benign', 'suspicious', 'malicious'][hash % 4];
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value, verdict }));
    }, latencyMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ total, refused, served: total - refused, distinct: calls.size, duplicates: [...calls.values()].filter((n) => n > 1).length, timeline: [...timeline] }),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
