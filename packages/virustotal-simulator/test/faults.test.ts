import { describe, expect, it } from 'vitest';
import { observableFor } from '../src/index.js';
import { GOOD_KEY, v2, v3, withSimulator } from './helpers.js';

const domain = observableFor({ type: 'domain', malicious: 5, total: 70 });

async function raw(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { headers: { 'x-apikey': GOOD_KEY } });
  return { status: response.status, text: await response.text() };
}

describe('faults', () => {
  it('answers 5xx at the error rate: v3 with an error envelope, v2 with an empty body', async () => {
    await withSimulator({ faults: { errorRate: 1, errorStatuses: [503] } }, async (sim) => {
      const r = await v3(sim, `/domains/${domain}`);
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('TransientError');
      sim.setFaults({ errorRate: 1, errorStatuses: [500] });
      const r2 = await v2(sim, 'domain/report', { apikey: GOOD_KEY, domain });
      expect(r2.status).toBe(500);
      expect(r2.text).toBe('');
      sim.setFaults({ errorRate: 1, errorStatuses: [502] });
      const gateway = await raw(`${sim.v3Url}/domains/${domain}`);
      expect(gateway.status).toBe(502);
      expect(gateway.text).toContain('Bad Gateway'); // an HTML page, like a proxy in front of the API
      expect(sim.stats().faults.error).toBe(3);
    });
  });

  it('destroys the connection at the reset rate', async () => {
    await withSimulator({ faults: { resetRate: 1 } }, async (sim) => {
      await expect(fetch(`${sim.v3Url}/domains/${domain}`, { headers: { 'x-apikey': GOOD_KEY } })).rejects.toThrow();
      expect(sim.stats().byStatus).toEqual({ reset: 1 });
    });
  });

  it('truncates JSON bodies (a prefix of the real body) and makes them malformed', async () => {
    await withSimulator({}, async (sim) => {
      const whole = await raw(`${sim.v3Url}/domains/${domain}`);
      sim.setFaults({ truncateRate: 1 });
      const cut = await raw(`${sim.v3Url}/domains/${domain}`);
      expect(cut.status).toBe(200);
      expect(whole.text.startsWith(cut.text)).toBe(true);
      expect(cut.text.length).toBeLessThan(whole.text.length);
      expect(() => JSON.parse(cut.text)).toThrow();
      sim.setFaults({ malformedRate: 1 });
      const bad = await raw(`${sim.v3Url}/domains/${domain}`);
      expect(bad.status).toBe(200);
      expect(() => JSON.parse(bad.text)).toThrow();
      expect(sim.stats().faults).toMatchObject({ truncate: 1, malformed: 1 });
    });
  });

  it('drips slow bodies intact and adds latency', async () => {
    await withSimulator({ faults: { slowBodyMs: 200 } }, async (sim) => {
      const whole = await raw(`${sim.v3Url}/domains/${domain}`);
      expect(JSON.parse(whole.text).data.id).toBe(domain);
      expect(sim.stats().faults.slowBody).toBe(1);
      sim.setFaults({ latencyMs: 150, jitterMs: 10 });
      const started = Date.now();
      expect((await v3(sim, `/domains/${domain}`)).status).toBe(200);
      // A lower bound only: the delay happened (an upper bound would be a timing test).
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(sim.stats().faults.latency).toBe(1);
    });
  });

  it('replays the same fault sequence from the seed (after setFaults, reset, or in another instance)', async () => {
    const faults = { errorRate: 0.4, truncateRate: 0.2 };
    const sequence = async (sim: Parameters<Parameters<typeof withSimulator>[1]>[0]) => {
      const out: string[] = [];
      for (let i = 0; i < 25; i++) {
        const r = await raw(`${sim.v3Url}/domains/${domain}`);
        out.push(`${r.status}:${r.text.length}`);
      }
      return out;
    };
    const first = await withSimulator({ seed: 's1', faults }, async (sim) => {
      const a = await sequence(sim);
      sim.setFaults(faults);
      expect(await sequence(sim)).toEqual(a);
      sim.reset();
      expect(await sequence(sim)).toEqual(a);
      return a;
    });
    expect(new Set(first).size).toBeGreaterThan(1);
    expect(await withSimulator({ seed: 's1', faults }, sequence)).toEqual(first);
  });

  it('changes faults at run time with POST /__sim/faults and rejects invalid ones', async () => {
    await withSimulator({}, async (sim) => {
      const set = await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 1, errorStatuses: [503] }) });
      expect(set.status).toBe(200);
      expect(((await set.json()) as { errorRate: number }).errorRate).toBe(1);
      expect((await v3(sim, `/domains/${domain}`)).status).toBe(503);
      // Faults never touch the control endpoints.
      expect((await fetch(`${sim.url}/__sim/stats`)).status).toBe(200);
      const bad = await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 2 }) });
      expect(bad.status).toBe(400);
      expect((await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: '{}' })).status).toBe(200);
      expect((await v3(sim, `/domains/${domain}`)).status).toBe(200);
      expect(sim.faults().errorRate).toBe(0);
    });
  });
});
