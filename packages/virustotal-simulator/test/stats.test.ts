import { describe, expect, it } from 'vitest';
import { keyFingerprint, observableFor } from '../src/index.js';
import { v2, v3, withSimulator } from './helpers.js';

describe('stats', () => {
  it('counts requests by status, endpoint and key fingerprint, never the key itself', async () => {
    const secretKey = 'sekret-key-123';
    await withSimulator({ apiKeys: [secretKey] }, async (sim) => {
      await v3(sim, `/ip_addresses/${observableFor({ type: 'ipv4' })}`, secretKey);
      await v3(sim, `/domains/notfound.example`, secretKey);
      await v3(sim, `/files/${observableFor({ type: 'md5' })}`, null);
      await v2(sim, 'file/report', { apikey: secretKey, resource: observableFor({ type: 'md5' }) });
      await v2(sim, 'url/report', { apikey: 'other', resource: 'http://clean.example/' });
      const response = await fetch(`${sim.url}/__sim/stats`);
      const text = await response.text();
      expect(text).not.toContain(secretKey);
      const stats = JSON.parse(text);
      expect(stats).toMatchObject({
        total: 5,
        byStatus: { '200': 2, '404': 1, '401': 1, '403': 1 },
        byEndpoint: { 'v3 ip_addresses': 1, 'v3 domains': 1, 'v3 files': 1, 'v2 file/report': 1, 'v2 url/report': 1 },
        byKey: { [keyFingerprint(secretKey)]: 3, [keyFingerprint('other')]: 1, '(none)': 1 },
      });
      expect(sim.stats()).toMatchObject({ total: 5, v2Resources: 1 });
    });
  });

  it('does not count /__sim requests, and reset clears the counters', async () => {
    await withSimulator({}, async (sim) => {
      await v3(sim, '/domains/clean.example');
      await fetch(`${sim.url}/__sim/stats`);
      expect(sim.stats().total).toBe(1);
      const reset = await fetch(`${sim.url}/__sim/reset`, { method: 'POST' });
      expect(reset.status).toBe(200);
      expect(sim.stats()).toMatchObject({ total: 0, byStatus: {}, byEndpoint: {}, byKey: {} });
    });
  });

  it('gives the same result from sim.stats() and GET /__sim/stats, fixtures included', async () => {
    const fixtures = [{ api: 'v3' as const, body: { data: { type: 'domain', id: 'captured.test', attributes: {} } } }];
    await withSimulator({ fixtures, faults: { latencyMs: 1 } }, async (sim) => {
      await v3(sim, '/domains/captured.test');
      await v3(sim, '/domains/clean.example', null);
      await v2(sim, 'file/report', { apikey: 'test-key', resource: `${observableFor({ type: 'md5' })},${observableFor({ type: 'sha1' })}` });
      const http = await (await fetch(`${sim.url}/__sim/stats`)).json();
      const library = sim.stats();
      expect(http).toEqual(library);
      // Guards against two empty objects passing: both carry every field, with real numbers.
      expect(Object.keys(library)).toEqual(['total', 'byStatus', 'byEndpoint', 'byKey', 'faults', 'v2Resources', 'firstRequestAt', 'lastRequestAt', 'fixtures']);
      expect(library.lastRequestAt).toBeGreaterThanOrEqual(library.firstRequestAt as number);
      expect(library).toMatchObject({ total: 3, fixtures: 1, v2Resources: 2, faults: { latency: 3 } });
      sim.reset();
      expect(sim.stats()).toEqual({ total: 0, byStatus: {}, byEndpoint: {}, byKey: {}, faults: {}, v2Resources: 0, firstRequestAt: null, lastRequestAt: null, fixtures: 1 });
    });
  });

  it('counts unknown v2 and v3 paths under one key each, however many paths there are', async () => {
    await withSimulator({}, async (sim) => {
      for (let i = 0; i < 5; i++) {
        expect((await v2(sim, `nope-${i}/report`, { apikey: 'test-key' })).status).toBe(404);
        expect((await v3(sim, `/nope-${i}/x`)).status).toBe(404);
      }
      expect(sim.stats().byEndpoint).toEqual({ 'v2 other': 5, 'v3 other': 5 });
    });
  });

  it('answers unknown paths with 404 and a hint', async () => {
    await withSimulator({}, async (sim) => {
      const response = await fetch(`${sim.url}/nope`);
      expect(response.status).toBe(404);
      expect(await response.text()).toContain('/api/v3');
      expect((await v3(sim, '/domains/clean.example/comments')).status).toBe(404);
    });
  });
});
