import { createEnricherFromConfig, parseConfig } from '@x/core';
const which = process.argv[2];
const providers = {};
if (which.includes('3')) providers.vt3 = { use: '@x/provider-virustotal-v3', options: { apiKey: 'bench', baseUrl: 'http://127.0.0.1:18787/api/v3' }, rateLimit: false };
if (which.includes('2')) providers.vt2 = { use: '@x/provider-virustotal-v2', options: { apiKey: 'bench', apiUrl: 'http://127.0.0.1:18787/vtapi/v2/' }, rateLimit: false };
const config = parseConfig({ providers, cache: false, concurrency: 64 }, { env: {} });
const enricher = await createEnricherFromConfig(config, { importFrom: process.cwd() });
async function* inputs() { for (let i = 0; i < 6000; i++) yield i % 2 ? `10.1.${(i >> 8) & 255}.${i & 255}` : `h-${i}.bench2.example`; }
let n = 0;
for await (const item of enricher.stream(inputs())) n += item.records.length;
global.gc?.();
console.log(which, { n, heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1e6), rssMb: Math.round(process.memoryUsage().rss / 1e6) });
await enricher.close();
