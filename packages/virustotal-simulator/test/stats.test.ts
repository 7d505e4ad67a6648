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

  it('answers unknown paths with 404 and a hint', async () => {
    await withSimulator({}, async (sim) => {
      const response = await fetch(`${sim.url}/nope`);
      expect(response.status).toBe(404);
      expect(await response.text()).toContain('/api/v3');
      expect((await v3(sim, '/domains/clean.example/comments')).status).toBe(404);
    });
  });
});
