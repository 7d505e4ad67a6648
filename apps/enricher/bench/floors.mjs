// Floors for `pnpm bench`: the least any program could spend on the same work on this machine,
// each run as its own process (as x-enrich is) so neither shares an event loop with the simulator
// or the load generator. Usage: node bench/floors.mjs <floor> [args...]; prints one JSON line.
//   http <v3Url> <apiKey> <count> <concurrency> [firstOctet=11]  GET count distinct IPv4 objects (firstOctet.x.y.z) over keep-alive sockets
//   json <file.jsonl>                             JSON.parse + JSON.stringify of every record in file
//   fastify <bodyFile>                            a bare fastify POST route answering the body; prints its URL
import { Agent, request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

const [floor, ...args] = process.argv.slice(2);

/** The bare client: node:http, one keep-alive agent with one socket per concurrent request; parses
 * each body as x-enrich must. A 404 (the simulator's "not found" object) is an answer too. */
async function http(v3Url, apiKey, count, concurrency, firstOctet = 11) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const base = new URL(v3Url);
  const get = (path) =>
    new Promise((resolve, reject) => {
      const req = request({ agent, host: base.hostname, port: base.port, path, headers: { 'x-apikey': apiKey, accept: 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => (res.statusCode === 200 || res.statusCode === 404 ? resolve(JSON.parse(text)) : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await get(`${base.pathname}/ip_addresses/${firstOctet}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      }
    }),
  );
  agent.destroy();
  return { requests: count, ms: performance.now() - started };
}

async function json(file) {
  const started = performance.now();
  const text = await readFile(file, 'utf8');
  let bytes = 0;
  let records = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    bytes += JSON.stringify(JSON.parse(line)).length + 1;
    records += 1;
  }
  return { records, bytes, ms: performance.now() - started };
}

async function fastify(bodyFile) {
  const { default: Fastify } = await import('fastify');
  const body = await readFile(bodyFile, 'utf8');
  const app = Fastify({ logger: false });
  // Parses the request body as serve does, and answers the same bytes serve answered.
  app.post('/v1/enrich', async (req, reply) => {
    if (!Array.isArray(req.body?.observables)) return reply.code(400).send({ error: 'bad' });
    return reply.type('application/json').send(body);
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  console.log(`listening on ${url}`);
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
  return undefined;
}

const result = floor === 'http' ? await http(args[0], args[1], Number(args[2]), Number(args[3]), Number(args[4] ?? 11)) : floor === 'json' ? await json(args[0]) : floor === 'fastify' ? await fastify(args[0]) : undefined;
if (result) console.log(JSON.stringify(result));
else if (floor !== 'fastify') throw new Error(`unknown floor: ${floor}`);
