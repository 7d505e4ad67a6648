import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observableFor, startSimulator, urlBase64Id, urlSha256, type Simulator } from '../src/index.js';
import { BAD_KEY, v3 } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
});
afterAll(async () => {
  await sim.close();
});

const URL_STATS_KEYS = ['harmless', 'malicious', 'suspicious', 'undetected', 'timeout'];
const FILE_STATS_KEYS = ['malicious', 'suspicious', 'undetected', 'harmless', 'timeout', 'confirmed-timeout', 'failure', 'type-unsupported'];

describe('v3 authentication', () => {
  it('answers 401 AuthenticationRequiredError without a key', async () => {
    const { status, body } = await v3(sim, '/domains/example.com', null);
    expect(status).toBe(401);
    expect(body).toEqual({ error: { code: 'AuthenticationRequiredError', message: 'X-Apikey header is missing' } });
  });

  it('answers 401 WrongCredentialsError for an unknown key, without echoing the key', async () => {
    const { status, body, text } = await v3(sim, '/domains/example.com', BAD_KEY);
    expect(status).toBe(401);
    expect(body).toEqual({ error: { code: 'WrongCredentialsError', message: 'Wrong API key' } });
    expect(text).not.toContain(BAD_KEY);
  });
});

describe('v3 ip_addresses', () => {
  it('serves an IPv4 object shaped like the real one, with the requested counts', async () => {
    const ip = observableFor({ type: 'ipv4', malicious: 5, total: 70 });
    expect(ip).toBe('198.18.5.70');
    const { status, body, headers } = await v3(sim, `/ip_addresses/${ip}`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
    const data = body.data;
    expect(data).toMatchObject({ type: 'ip_address', id: ip, links: { self: `https://www.virustotal.com/api/v3/ip_addresses/${ip}` } });
    const a = data.attributes;
    expect(Object.keys(a.last_analysis_stats)).toEqual(URL_STATS_KEYS);
    expect(a.last_analysis_stats.malicious).toBe(5);
    expect(Object.keys(a.last_analysis_results)).toHaveLength(70);
    const sum = Object.values(a.last_analysis_stats as Record<string, number>).reduce((x, y) => x + y, 0);
    expect(sum).toBe(70);
    const detected = Object.values(a.last_analysis_results as Record<string, { category: string }>).filter((r) => r.category === 'malicious');
    expect(detected).toHaveLength(5);
    for (const field of ['country', 'as_owner', 'asn', 'network', 'continent', 'regional_internet_registry', 'reputation', 'tags', 'total_votes', 'last_analysis_date']) {
      expect(a).toHaveProperty(field);
    }
    expect(Number.isInteger(a.last_analysis_date)).toBe(true);
    const engine = Object.entries(a.last_analysis_results as Record<string, Record<string, unknown>>)[0]!;
    expect(engine[1]).toMatchObject({ engine_name: engine[0], method: 'blacklist' });
  });

  it('serves IPv6 addresses (2001:db8:M:S:T:: encodes the counts)', async () => {
    const ip = observableFor({ type: 'ipv6', malicious: 2, suspicious: 3, total: 80 });
    const { status, body } = await v3(sim, `/ip_addresses/${ip}`);
    expect(status).toBe(200);
    expect(body.data.id).toBe(ip);
    expect(body.data.attributes.last_analysis_stats).toMatchObject({ malicious: 2, suspicious: 3 });
    expect(body.data.attributes.network).toMatch(/::\/48$/);
  });

  it('answers 404 NotFoundError for a not-found address and 400 for a malformed one', async () => {
    expect((await v3(sim, '/ip_addresses/192.0.2.7')).body.error.code).toBe('NotFoundError');
    expect((await v3(sim, '/ip_addresses/192.0.2.7')).status).toBe(404);
    const bad = await v3(sim, '/ip_addresses/300.1.1.1');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('InvalidArgumentError');
  });
});

describe('v3 domains', () => {
  it('serves the named presets and count patterns', async () => {
    const malicious = await v3(sim, '/domains/malicious.example');
    expect(malicious.body.data.attributes.last_analysis_stats.malicious).toBe(60);
    const counted = await v3(sim, '/domains/www.m-4-s-3-of-90.example');
    expect(counted.body.data.attributes.last_analysis_stats).toMatchObject({ malicious: 4, suspicious: 3 });
    const a = counted.body.data.attributes;
    expect(typeof a.registrar).toBe('string');
    expect(Number.isInteger(a.creation_date)).toBe(true);
    expect(Object.values(a.categories).every((c) => typeof c === 'string')).toBe(true);
  });

  it('answers 404 for notfound.example and 400 with the real message for a malformed domain', async () => {
    const missing = await v3(sim, '/domains/notfound.example');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({ code: 'NotFoundError', message: 'Domain "notfound.example" not found' });
    const bad = await v3(sim, '/domains/not_a..domain');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toEqual({ code: 'InvalidArgumentError', message: 'Domain "not_a..domain" is not a valid domain pattern' });
  });
});

describe('v3 files', () => {
  it('keeps the requested hash and derives the others; all three ids reach the same object', async () => {
    const md5 = observableFor({ type: 'md5', malicious: 40, suspicious: 1, total: 72, variant: 7 });
    const byMd5 = await v3(sim, `/files/${md5}`);
    expect(byMd5.status).toBe(200);
    const a = byMd5.body.data.attributes;
    expect(a.md5).toBe(md5);
    expect(a.sha1).toMatch(/^[0-9a-f]{40}$/);
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(byMd5.body.data.id).toBe(a.sha256);
    expect(Object.keys(a.last_analysis_stats)).toEqual(FILE_STATS_KEYS);
    expect(a.last_analysis_stats.malicious).toBe(40);
    expect(a.popular_threat_classification.suggested_threat_label).toEqual(expect.any(String));
    expect(a.popular_threat_classification.popular_threat_name[0]).toEqual({ count: expect.any(Number), value: expect.any(String) });
    for (const field of ['type_description', 'size', 'first_submission_date', 'names', 'meaningful_name']) expect(a).toHaveProperty(field);
    const engine = Object.values(a.last_analysis_results)[0] as Record<string, unknown>;
    expect(Object.keys(engine).sort()).toEqual(['category', 'engine_name', 'engine_update', 'engine_version', 'method', 'result']);

    const bySha256 = await v3(sim, `/files/${a.sha256}`);
    const bySha1 = await v3(sim, `/files/${a.sha1.toUpperCase()}`);
    expect(bySha256.body).toEqual(byMd5.body);
    expect(bySha1.body).toEqual(byMd5.body);
  });

  it('omits popular_threat_classification for a clean file', async () => {
    const { body } = await v3(sim, `/files/${observableFor({ type: 'sha256' })}`);
    expect(body.data.attributes.last_analysis_stats.malicious).toBe(0);
    expect(body.data.attributes).not.toHaveProperty('popular_threat_classification');
  });

  it('answers 404 like the real capture and 400 for a malformed hash', async () => {
    const hash = observableFor({ type: 'sha256', status: 'not_found' });
    const missing = await v3(sim, `/files/${hash}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'NotFoundError', message: `File "${hash}" not found` } });
    const bad = await v3(sim, '/files/xyz');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('InvalidArgumentError');
  });

  it('serves a queued file as found with an empty analysis', async () => {
    const { status, body } = await v3(sim, `/files/${observableFor({ type: 'md5', status: 'queued' })}`);
    expect(status).toBe(200);
    const a = body.data.attributes;
    expect(a).not.toHaveProperty('last_analysis_date');
    expect(a.last_analysis_results).toEqual({});
    expect(Object.values(a.last_analysis_stats).every((n) => n === 0)).toBe(true);
  });
});

describe('v3 urls', () => {
  const url = 'http://m-9-of-90.example/login?x=1';

  it('accepts the unpadded base64url id and returns the SHA-256 id with url and last_final_url', async () => {
    const { status, body } = await v3(sim, `/urls/${urlBase64Id(url)}`);
    expect(status).toBe(200);
    expect(body.data.type).toBe('url');
    expect(body.data.id).toBe(urlSha256(url));
    expect(body.data.attributes).toMatchObject({ url, last_final_url: url });
    expect(body.data.attributes.last_analysis_stats.malicious).toBe(9);
    expect(typeof body.data.attributes.title).toBe('string');
    expect(typeof body.data.attributes.categories).toBe('object');
  });

  it('accepts the SHA-256 id of a URL it has seen and gives the same object', async () => {
    const byBase64 = await v3(sim, `/urls/${urlBase64Id(url)}`);
    const bySha = await v3(sim, `/urls/${urlSha256(url)}`);
    expect(bySha.body).toEqual(byBase64.body);
  });

  it('decodes base64url ids with - and _ characters', async () => {
    const tricky = 'https://www.dropbox.com/s/qmi112rc4ns75eb/Confidential_123.xls?dl=1';
    const id = urlBase64Id(tricky);
    expect(id).toMatch(/[-_]/);
    const { status, body } = await v3(sim, `/urls/${id}`);
    expect(status).toBe(200);
    expect(body.data.attributes.url).toBe(tricky);
  });

  it('serves URLs whose host is a reserved IP, IPv6 literals included', async () => {
    const v4 = await v3(sim, `/urls/${urlBase64Id('http://198.18.6.80/a')}`);
    expect(v4.body.data.attributes.last_analysis_stats.malicious).toBe(6);
    const v6 = await v3(sim, `/urls/${urlBase64Id('http://[2001:db8:7:0:70::1]/a')}`);
    expect(v6.body.data.attributes.last_analysis_stats.malicious).toBe(7);
  });

  it('answers 404 for a not-found URL', async () => {
    const id = urlBase64Id('http://notfound.example/');
    const missing = await v3(sim, `/urls/${id}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'NotFoundError', message: `URL "${id}" not found` } });
  });

  it('answers an id that is neither a SHA-256 nor a base64url URL as the real capture does: 404, not 400', async () => {
    // The real API's answer to this very id (the capture docs_example_error_404_NotFoundError_url.json).
    const garbage = await v3(sim, '/urls/thisurlidmakesnosenseatall');
    expect(garbage.status).toBe(404);
    expect(garbage.body).toEqual({ error: { code: 'NotFoundError', message: 'URL "thisurlidmakesnosenseatall" not found' } });
    // Not even base64: still an id the API does not know, with the same message shape.
    const bad = await v3(sim, '/urls/!!!');
    expect(bad.status).toBe(404);
    expect(bad.body).toEqual({ error: { code: 'NotFoundError', message: 'URL "!!!" not found' } });
  });
});
