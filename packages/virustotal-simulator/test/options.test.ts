import { describe, expect, it } from 'vitest';
import { observableFor, seededOutcome, startSimulator, urlSha256 } from '../src/index.js';
import { v3, withSimulator } from './helpers.js';

describe('options', () => {
  it('reports every invalid option at once, with its path', async () => {
    await expect(startSimulator({ port: -1, quotas: [{ requests: 0, perMs: 1000 }], faults: { errorRate: 2 } })).rejects.toThrow(
      /port:[\s\S]*quotas\.0\.requests:[\s\S]*faults\.errorRate:/,
    );
  });

  it('refuses apiKeys: [] (it would refuse every request) and says how to accept any key', async () => {
    await expect(startSimulator({ apiKeys: [] })).rejects.toThrow(/apiKeys: give at least one accepted key .*\["\*"\] accepts any non-empty key/);
  });

  it('accepts any non-empty key with apiKeys ["*"], still refusing a missing one', async () => {
    await withSimulator({ apiKeys: ['*'] }, async (sim) => {
      expect((await v3(sim, '/domains/clean.example', 'anything-at-all')).status).toBe(200);
      expect((await v3(sim, '/domains/clean.example', null)).status).toBe(401);
    });
  });
});

describe('URL ids the simulator has not seen', () => {
  it('answers a never-seen SHA-256 from the seeded mix, without url (a hash cannot be inverted)', async () => {
    await withSimulator({}, async (sim) => {
      // The first seeded URL id the mix reports as found.
      let found: { status: number; body: { data: { id: string; attributes: Record<string, unknown> } } } | undefined;
      for (let i = 0; i < 50 && !found; i++) {
        const r = await v3(sim, `/urls/${urlSha256(`http://unseen-${i}.example.org/`)}`);
        if (r.status === 200) found = r;
      }
      expect(found).toBeDefined();
      expect(found!.body.data.attributes).not.toHaveProperty('url');
      expect(found!.body.data.attributes).toHaveProperty('last_analysis_stats');
    });
  });

  it('gives a seeded URL the same verdict by SHA-256 before and by base64url after it is seen', async () => {
    await withSimulator({}, async (sim) => {
      const url = Array.from({ length: 50 }, (_, i) => `http://unseen-${i}.example.org/`).find((u) => seededOutcome('x-enrich', 'url', urlSha256(u)).status === 'found')!;
      const before = await v3(sim, `/urls/${urlSha256(url)}`);
      const after = await v3(sim, `/urls/${Buffer.from(url).toString('base64url')}`);
      expect([before.status, after.status]).toEqual([200, 200]);
      expect(after.body.data.attributes.last_analysis_stats).toEqual(before.body.data.attributes.last_analysis_stats);
      expect(after.body.data.attributes.url).toBe(url);
    });
  });

  it('recognises reserved hosts only through the URL itself', async () => {
    await withSimulator({}, async (sim) => {
      const url = observableFor({ type: 'url', malicious: 12, total: 90 });
      const byBase64 = await v3(sim, `/urls/${Buffer.from(url).toString('base64url')}`);
      expect(byBase64.body.data.attributes.last_analysis_stats.malicious).toBe(12);
      expect((await v3(sim, `/urls/${urlSha256(url)}`)).body).toEqual(byBase64.body);
    });
  });
});
