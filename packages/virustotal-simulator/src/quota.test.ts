import { describe, expect, it, vi } from 'vitest';
import { observableFor, parseQuota } from './index.js';
import { QuotaTracker } from './quota.js';
import { v2, v3, withSimulator } from '../test/helpers.js';

const ip = observableFor({ type: 'ipv4' });

describe('parseQuota', () => {
  it('reads N/s, N/min, N/h and N/day', () => {
    expect(parseQuota('4/min')).toEqual({ requests: 4, perMs: 60_000 });
    expect(parseQuota('500/day')).toEqual({ requests: 500, perMs: 86_400_000 });
    expect(parseQuota('10/s')).toEqual({ requests: 10, perMs: 1_000 });
    expect(parseQuota('2/h')).toEqual({ requests: 2, perMs: 3_600_000 });
  });

  it('rejects anything else with the accepted forms in the message', () => {
    expect(() => parseQuota('4 per minute')).toThrow(/N\/s, N\/min, N\/h or N\/day/);
    expect(() => parseQuota('0/min')).toThrow();
  });
});

describe('quotas', () => {
  it('answers v3 429 QuotaExceededError once a window is full, per key', async () => {
    await withSimulator({ apiKeys: ['a', 'b'], quotas: [{ requests: 2, perMs: 60_000 }] }, async (sim) => {
      expect((await v3(sim, `/ip_addresses/${ip}`, 'a')).status).toBe(200);
      expect((await v3(sim, `/ip_addresses/${ip}`, 'a')).status).toBe(200);
      const over = await v3(sim, `/ip_addresses/${ip}`, 'a');
      expect(over.status).toBe(429);
      expect(over.body).toEqual({ error: { code: 'QuotaExceededError', message: 'Quota exceeded' } });
      // Another key has its own budget.
      expect((await v3(sim, `/ip_addresses/${ip}`, 'b')).status).toBe(200);
    });
  });

  it('answers v2 204 with an empty body, sharing the budget with v3', async () => {
    await withSimulator({ quotas: [{ requests: 2, perMs: 60_000 }] }, async (sim) => {
      expect((await v3(sim, `/ip_addresses/${ip}`)).status).toBe(200);
      expect((await v2(sim, 'ip-address/report', { apikey: 'test-key', ip })).status).toBe(200);
      const over = await v2(sim, 'ip-address/report', { apikey: 'test-key', ip });
      expect(over.status).toBe(204);
      expect(over.text).toBe('');
      expect(sim.stats().byStatus).toMatchObject({ '200': 2, '204': 1 });
    });
  });

  it('counts one request for a v2 batch of hashes', async () => {
    await withSimulator({ quotas: [{ requests: 1, perMs: 60_000 }] }, async (sim) => {
      const resource = [1, 2, 3, 4].map((variant) => observableFor({ type: 'md5', variant })).join(',');
      const batch = await v2(sim, 'file/report', { apikey: 'test-key', resource });
      expect(batch.body).toHaveLength(4);
      expect((await v2(sim, 'file/report', { apikey: 'test-key', resource })).status).toBe(204);
      expect(sim.stats().v2Resources).toBe(4);
    });
  });

  it('enforces several windows at once and refills a sliding window', async () => {
    // The windows read Date.now(): only Date is faked (sockets and timers stay real), so on a
    // loaded machine three requests still land "at once" in the 300 ms window, and time moves
    // only when the test says so.
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-01T00:00:00.000Z') });
    try {
      await withSimulator({ quotas: [{ requests: 3, perMs: 60_000 }, { requests: 2, perMs: 300 }] }, async (sim) => {
        const status = async () => (await v3(sim, `/ip_addresses/${ip}`)).status;
        expect([await status(), await status(), await status()]).toEqual([200, 200, 429]); // short window full
        vi.setSystemTime(Date.now() + 299);
        expect(await status()).toBe(429); // still inside the short window
        vi.setSystemTime(Date.now() + 1);
        expect(await status()).toBe(200); // short window refilled; 3 of 3 in the long one
        vi.setSystemTime(Date.now() + 350);
        expect(await status()).toBe(429); // long window full
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not count refused requests, and reset() clears the windows', async () => {
    await withSimulator({ quotas: [{ requests: 1, perMs: 60_000 }] }, async (sim) => {
      expect((await v3(sim, `/ip_addresses/${ip}`)).status).toBe(200);
      expect((await v3(sim, `/ip_addresses/${ip}`)).status).toBe(429);
      sim.reset();
      expect((await v3(sim, `/ip_addresses/${ip}`)).status).toBe(200);
      await fetch(`${sim.url}/__sim/reset`, { method: 'POST' });
      expect((await v3(sim, `/ip_addresses/${ip}`)).status).toBe(200);
    });
  });

  it('checks credentials before the quota: bad keys never consume or hit it', async () => {
    await withSimulator({ quotas: [{ requests: 1, perMs: 60_000 }] }, async (sim) => {
      expect((await v3(sim, `/ip_addresses/${ip}`, 'wrong')).status).toBe(401);
      expect((await v2(sim, 'ip-address/report', { apikey: 'wrong', ip })).status).toBe(403);
      expect((await v3(sim, `/ip_addresses/${ip}`)).status).toBe(200);
    });
  });
});

describe('quota counting modes', () => {
  it('sliding (default) counts arrivals in any window length: the budget returns one unit at a time', () => {
    const quota = new QuotaTracker([{ requests: 2, perMs: 1_000 }]);
    expect([quota.tryAcquire('k', 900), quota.tryAcquire('k', 1_100), quota.tryAcquire('k', 1_899)]).toEqual([true, true, false]);
    expect(quota.tryAcquire('k', 1_900)).toBe(true); // the arrival at 900 left
    expect(quota.tryAcquire('k', 2_099)).toBe(false); // the one at 1 100 has not
  });

  it('fixed counts arrivals per clock-aligned window: the whole budget returns at the boundary', () => {
    const quota = new QuotaTracker([{ requests: 2, perMs: 1_000 }], 'fixed');
    expect([quota.tryAcquire('k', 900), quota.tryAcquire('k', 950), quota.tryAcquire('k', 999)]).toEqual([true, true, false]);
    // A new window at 1 000: two more at once, right after the first two (a sliding window would refuse them).
    expect([quota.tryAcquire('k', 1_000), quota.tryAcquire('k', 1_001), quota.tryAcquire('k', 1_999)]).toEqual([true, true, false]);
    expect(quota.tryAcquire('other', 1_999)).toBe(true);
  });

  it('is chosen with quotaMode (and --quota-mode); fixed refuses the N+1th within the window', async () => {
    await withSimulator({ quotas: [{ requests: 2, perMs: 86_400_000 }], quotaMode: 'fixed' }, async (sim) => {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await v3(sim, `/ip_addresses/${ip}`)).status);
      expect(statuses).toEqual([200, 200, 429]);
    });
  });

  it('injects quota refusals on demand (faults.quotaRefusals), with Retry-After when asked', async () => {
    await withSimulator({}, async (sim) => {
      sim.setFaults({ quotaRefusals: 2, quotaRetryAfterS: 3 });
      const first = await v3(sim, `/ip_addresses/${ip}`);
      expect(first.status).toBe(429);
      expect(first.headers.get('retry-after')).toBe('3');
      expect((await v2(sim, 'ip-address/report', { apikey: 'test-key', ip })).status).toBe(204);
      expect((await v3(sim, `/ip_addresses/${ip}`)).status).toBe(200);
      expect(sim.stats().faults).toMatchObject({ quota_refusal: 2 });
    });
  });
});
