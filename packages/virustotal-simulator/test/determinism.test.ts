import { describe, expect, it } from 'vitest';
import { observableFor, urlBase64Id } from '../src/index.js';
import { GOOD_KEY, v2, v3, withSimulator } from './helpers.js';

const V3_PATHS = [
  '/ip_addresses/8.8.8.8',
  '/ip_addresses/2a00:1450:4001:80b::200e',
  '/domains/example.com',
  '/domains/github.com',
  `/files/${'44d88612fea8a8f36de82e1278abb02f'}`,
  `/files/${'ab'.repeat(32)}`,
  `/urls/${urlBase64Id('http://example.com/path')}`,
  `/domains/${observableFor({ type: 'domain', malicious: 7 })}`,
];

async function snapshot(seed: string): Promise<string[]> {
  return withSimulator({ seed }, async (sim) => {
    const out: string[] = [];
    for (const path of V3_PATHS) out.push((await v3(sim, path)).text);
    out.push((await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: `${'ab'.repeat(32)},44d88612fea8a8f36de82e1278abb02f` })).text);
    out.push((await v2(sim, 'domain/report', { apikey: GOOD_KEY, domain: 'github.com' })).text);
    out.push((await v2(sim, 'ip-address/report', { apikey: GOOD_KEY, ip: '8.8.8.8' })).text);
    out.push((await v2(sim, 'url/report', { apikey: GOOD_KEY, resource: 'http://example.com/path' })).text);
    return out;
  });
}

describe('determinism', () => {
  it('gives byte-identical responses from two simulators with the same seed', async () => {
    expect(await snapshot('seed-a')).toEqual(await snapshot('seed-a'));
  });

  it('gives different data with a different seed, but the same reserved outcomes', async () => {
    const [a, b] = [await snapshot('seed-a'), await snapshot('seed-b')];
    expect(a).not.toEqual(b);
    const reservedA = JSON.parse(a[V3_PATHS.length - 1]!).data.attributes.last_analysis_stats.malicious;
    const reservedB = JSON.parse(b[V3_PATHS.length - 1]!).data.attributes.last_analysis_stats.malicious;
    expect([reservedA, reservedB]).toEqual([7, 7]);
  });
});
