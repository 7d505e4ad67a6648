// One x-enrich process of the fleet: core's engine + the provider + the Redis stores (built
// `dist`). Protocol on stdio, one JSON object a line: it prints {type:"ready"}, waits for "go"
// on stdin, runs its phase, prints {type:"done", ...} and exits.
import { createInterface } from 'node:readline';
import { createEnricher, prepareProvider } from '@x/core';
import { createRedisStores } from '../../dist/index.js';

const config = JSON.parse(process.env.X_FLEET_CONFIG ?? '{}');
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

async function loadPlugin() {
  const module = await import(config.pluginModule);
  return module.default;
}

const stores = await createRedisStores({ url: config.redisUrl, keyPrefix: config.keyPrefix, onUnavailable: 'refuse' });
const plugin = await loadPlugin();
const provider = prepareProvider(config.instanceName, plugin, {
  options: config.providerOptions,
  rateLimit: config.rateLimit,
  maxRateLimitWait: '5m',
  // No retries: a refused request must show up as a refusal, not be hidden by a retry.
  resilience: { retry: false, circuitBreaker: false, bulkhead: { maxConcurrent: 64, maxQueue: 100_000 } },
});
const enricher = createEnricher({
  providers: [provider],
  cacheStore: stores.cache,
  rateLimitStore: stores.rateLimit,
  coalescingStore: stores.coalescing,
  concurrency: config.concurrency ?? 16,
});

send({ type: 'ready', pid: process.pid });
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;

const started = performance.now();
let lookups = 0;
const statuses = {};
for (let round = 0; round < (config.rounds ?? 1); round++) {
  const { records } = await enricher.enrich(config.observables, { concurrency: config.concurrency ?? 16 });
  for (const record of records) {
    lookups++;
    statuses[record.status] = (statuses[record.status] ?? 0) + 1;
    if (record.status === 'error') statuses[`error:${record.error?.code}`] = (statuses[`error:${record.error?.code}`] ?? 0) + 1;
  }
}
const elapsedMs = performance.now() - started;
const instance = enricher.stats()[config.instanceName];
send({ type: 'done', pid: process.pid, lookups, elapsedMs, statuses, stats: instance, storeStatus: stores.status() });
await enricher.close();
await stores.close();
process.exit(0);
