import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observableFor, outcomeObservables, seededOutcome, startSimulator, urlSha256, V2_MESSAGES, type Simulator } from '../src/index.js';
import { BAD_KEY, GOOD_KEY, v2, v3 } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
});
afterAll(async () => {
  await sim.close();
});

describe('v2 authentication', () => {
  it('answers 403 with an empty body for an unknown or missing key', async () => {
    for (const params of [{ apikey: BAD_KEY, resource: observableFor({ type: 'md5' }) }, { resource: observableFor({ type: 'md5' }) }] as Array<Record<string, string>>) {
      const { status, text } = await v2(sim, 'file/report', params);
      expect(status).toBe(403);
      expect(text).toBe('');
    }
  });
});

describe('v2 file/report', () => {
  it('reports positives/total, scans per engine and the real field set', async () => {
    const md5 = observableFor({ type: 'md5', malicious: 33, total: 100 });
    const { status, body } = await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: md5 });
    expect(status).toBe(200);
    expect(body).toMatchObject({ response_code: 1, verbose_msg: V2_MESSAGES.fileFound, resource: md5, md5, positives: 33, total: 100 });
    expect(body.scan_date).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(body.scan_id).toBe(`${body.sha256}-${body.scan_id.split('-')[1]}`);
    expect(body.permalink).toContain(`/file/${body.sha256}/analysis/`);
    expect(Object.keys(body.scans)).toHaveLength(100);
    const scans = Object.values(body.scans) as Array<{ detected: boolean; version: string; result: string | null; update: string }>;
    expect(scans.filter((s) => s.detected)).toHaveLength(33);
    expect(scans.filter((s) => !s.detected).every((s) => s.result === null)).toBe(true);
    expect(Object.keys(scans[0]!).sort()).toEqual(['detected', 'result', 'update', 'version']);
  });

  it('gives the same counts as v3 for the same (seeded, not reserved) hash', async () => {
    // The first detected file of the seeded mix, found without the server.
    const sha256 = Array.from({ length: 500 }, (_, i) => i.toString(16).padStart(64, 'a')).find((h) => {
      const outcome = seededOutcome('x-enrich', 'file', h);
      return outcome.status === 'found' && outcome.malicious > 0;
    })!;
    const report = (await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: sha256 })).body;
    const object = (await v3(sim, `/files/${sha256}`)).body.data.attributes;
    expect(report.positives).toBe(object.last_analysis_stats.malicious);
    expect(report.positives).toBeGreaterThan(0);
    expect(report.total).toBe(Object.keys(object.last_analysis_results).length);
    expect(report.scan_date.replace(' ', 'T') + 'Z').toBe(new Date(object.last_analysis_date * 1000).toISOString().replace('.000', ''));
  });

  it('answers not found (0) and queued (-2) with the real messages', async () => {
    const missing = observableFor({ type: 'sha1', status: 'not_found' });
    expect((await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: missing })).body).toEqual({ response_code: 0, resource: missing, verbose_msg: V2_MESSAGES.fileNotFound });
    const queued = observableFor({ type: 'sha256', status: 'queued' });
    expect((await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: queued })).body).toEqual({ response_code: -2, resource: queued, scan_id: queued, verbose_msg: V2_MESSAGES.queued });
  });

  it('returns an array for comma-separated resources, in order, and refuses more than 25', async () => {
    const hashes = Object.values(outcomeObservables('md5')) as string[];
    const { body } = await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: hashes.join(', ') });
    expect(Array.isArray(body)).toBe(true);
    expect(body.map((r: { resource: string }) => r.resource)).toEqual(hashes);
    const tooMany = Array.from({ length: 26 }, (_, i) => observableFor({ type: 'md5', variant: i }));
    expect((await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: tooMany.join(',') })).status).toBe(400);
  });

  it('accepts POST form bodies like GET queries', async () => {
    const md5 = observableFor({ type: 'md5', malicious: 66, total: 100 });
    const get = await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: md5 });
    const post = await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: md5 }, true);
    expect(post.status).toBe(200);
    expect(post.body).toEqual(get.body);
  });

  it('answers an invalid resource with response_code 0 and a missing one with 400', async () => {
    expect((await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: 'nope' })).body).toEqual({ response_code: 0, resource: 'nope', verbose_msg: V2_MESSAGES.invalidResource });
    expect((await v2(sim, 'file/report', { apikey: GOOD_KEY })).status).toBe(400);
  });
});

describe('v2 url/report', () => {
  it('reports a URL with scans and the canonical url', async () => {
    const { body } = await v2(sim, 'url/report', { apikey: GOOD_KEY, resource: 'http://m-67-of-100.example' });
    expect(body).toMatchObject({ response_code: 1, resource: 'http://m-67-of-100.example', url: 'http://m-67-of-100.example/', positives: 67, total: 100, filescan_id: null, verbose_msg: V2_MESSAGES.urlFound });
    expect(body.scan_id.startsWith(urlSha256('http://m-67-of-100.example/'))).toBe(true);
    expect(Object.values(body.scans)[0]).toEqual({ detected: expect.any(Boolean), result: expect.stringMatching(/ site$/) });
  });

  it('returns an array for newline-separated URLs, and not found / queued codes', async () => {
    const { body } = await v2(sim, 'url/report', { apikey: GOOD_KEY, resource: 'http://notfound.example/\nhttp://queued.example/a\nhttp://clean.example/' }, true);
    expect(body.map((r: { response_code: number }) => r.response_code)).toEqual([0, -2, 1]);
    expect(body[0].verbose_msg).toBe(V2_MESSAGES.urlNotFound);
    expect(body[1].verbose_msg).toBe(V2_MESSAGES.queued);
  });

  it('queues an unknown URL with scan=1 (response_code 1, as the real API did)', async () => {
    const { body } = await v2(sim, 'url/report', { apikey: GOOD_KEY, resource: 'http://notfound.example/x', scan: '1' });
    expect(body).toMatchObject({ response_code: 1, verbose_msg: V2_MESSAGES.urlScanQueued, url: 'http://notfound.example/x' });
  });
});

describe('v2 domain/report and ip-address/report', () => {
  const worstRate = (urls: Array<{ positives: number; total: number }>) => Math.max(0, ...urls.map((u) => (u.positives * 100) / u.total));

  it('expresses the selected rate as the worst detected_urls entry', async () => {
    for (const [positives, total] of [
      [32, 100],
      [33, 100],
      [50, 100],
      [66, 100],
      [67, 100],
      [5, 70],
    ] as const) {
      const domain = observableFor({ type: 'domain', malicious: positives, total });
      const { body } = await v2(sim, 'domain/report', { apikey: GOOD_KEY, domain });
      expect(body).toMatchObject({ response_code: 1, verbose_msg: V2_MESSAGES.domainFound });
      expect(worstRate(body.detected_urls)).toBe((positives * 100) / total);
      expect(body.detected_urls[0]).toEqual({ url: expect.stringContaining(domain), positives, total, scan_date: expect.any(String) });
    }
  });

  it('carries the real domain report fields, and communicating samples even when clean', async () => {
    const { body } = await v2(sim, 'domain/report', { apikey: GOOD_KEY, domain: 'clean.example' });
    expect(body.detected_urls).toEqual([]);
    expect(body.detected_communicating_samples.length).toBeGreaterThan(0);
    for (const field of ['resolutions', 'categories', 'whois', 'BitDefender category', 'undetected_urls', 'detected_downloaded_samples', 'undetected_communicating_samples']) {
      expect(body).toHaveProperty([field]);
    }
    const [url, sha256, positives, total, date] = body.undetected_urls[0];
    expect([typeof url, typeof sha256, positives, typeof total, typeof date]).toEqual(['string', 'string', 0, 'number', 'string']);
    expect(body.resolutions[0]).toEqual({ last_resolved: expect.any(String), ip_address: expect.any(String) });
  });

  it('reports IPs with asn, country, as_owner and hostname resolutions; not found with the v2 messages', async () => {
    const { body } = await v2(sim, 'ip-address/report', { apikey: GOOD_KEY, ip: '198.18.40.80' });
    expect(body).toMatchObject({ response_code: 1, verbose_msg: V2_MESSAGES.ipFound, asn: expect.any(Number), country: expect.any(String), as_owner: expect.any(String) });
    expect(worstRate(body.detected_urls)).toBe(50);
    expect(body.resolutions[0]).toEqual({ last_resolved: expect.any(String), hostname: expect.any(String) });
    expect((await v2(sim, 'ip-address/report', { apikey: GOOD_KEY, ip: '192.0.2.1' })).body).toEqual({ response_code: 0, verbose_msg: V2_MESSAGES.ipNotFound });
    expect((await v2(sim, 'domain/report', { apikey: GOOD_KEY, domain: 'notfound.example' })).body).toEqual({ response_code: 0, verbose_msg: V2_MESSAGES.domainNotFound });
    expect((await v2(sim, 'ip-address/report', { apikey: GOOD_KEY, ip: 'nope' })).status).toBe(400);
  });

  it('serves IPv6 in v2 too', async () => {
    const ip = observableFor({ type: 'ipv6', malicious: 7, total: 70 });
    const { body } = await v2(sim, 'ip-address/report', { apikey: GOOD_KEY, ip });
    expect(worstRate(body.detected_urls)).toBe(10);
  });
});
