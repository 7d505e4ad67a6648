// Response bodies are untyped JSON: tests assert their shape field by field.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observableFor, startSimulator, urlBase64Id, urlSha256, type Simulator } from '../src/index.js';
import { GOOD_KEY, v2, v3, withSimulator } from './helpers.js';

const CAPTURES = fileURLToPath(new URL('./fixtures/captures', import.meta.url));
const SHADOWING = fileURLToPath(new URL('./fixtures/shadowing', import.meta.url));
const capture = async (path: string) => JSON.parse(await readFile(join(CAPTURES, path), 'utf8'));

const MALICIOUS_FILE = observableFor({ type: 'sha256', malicious: 40, total: 70 });
const CLEAN_FILE = observableFor({ type: 'sha256', malicious: 0, total: 70 });
const CONTROLLED_FILE = observableFor({ type: 'sha256', malicious: 2, total: 70, variant: 7 });
const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    gti: true,
    now: () => NOW_MS,
    depth: [
      {
        value: CONTROLLED_FILE,
        gti: { verdict: 'VERDICT_MALICIOUS', threatScore: 80, severity: 'SEVERITY_HIGH' },
        sandboxes: { Zenbox: 'malicious', C2AE: 'harmless' },
        ids: { high: 2, low: 1 },
        sigma: { critical: 1, medium: 2 },
        yara: 3,
      },
    ],
  });
});
afterAll(() => sim.close());

/** The JSON type of every value, recursively for plain objects (arrays: the type of their first item). */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shapeOf(value[0])] : [];
  if (value === null) return 'null';
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shapeOf(v)]));
  return typeof value;
}

describe('generated fields the captures carry', () => {
  it('files: fuzzy hashes, TrID, ExifTool, type tags, Magika and threat severity with the captures\' types', async () => {
    const a = (await v3(sim, `/files/${MALICIOUS_FILE}`)).body.data.attributes;
    const real = (await capture('v3/file_object_malicious_pe_03bd9a94.json')).attributes;
    for (const field of ['ssdeep', 'tlsh', 'vhash', 'magic']) {
      expect(typeof a[field], field).toBe('string');
      expect(typeof real[field], `capture ${field}`).toBe('string');
    }
    expect(a.ssdeep).toMatch(/^\d+:[A-Za-z0-9+/]+:[A-Za-z0-9+/]+$/);
    expect(real.ssdeep).toMatch(/^\d+:[A-Za-z0-9+/]+:[A-Za-z0-9+/]+$/);
    expect(a.tlsh).toMatch(/^T1[0-9A-F]{70}$/);
    expect(real.tlsh).toMatch(/^T1[0-9A-F]{70}$/);
    expect(a.trid[0]).toEqual({ file_type: expect.any(String), probability: expect.any(Number) });
    expect(Object.values(a.exiftool).every((value) => typeof value === 'string')).toBe(true);
    expect(a.exiftool).toHaveProperty('MIMEType');
    expect(a.type_tags).toEqual(expect.arrayContaining([expect.any(String)]));
    expect(typeof a.magika).toBe('string');
    expect(a.threat_severity).toMatchObject({ version: 5, threat_severity_level: expect.stringMatching(/^SEVERITY_/), last_analysis_date: expect.stringMatching(/^\d+$/), level_description: expect.any(String) });
  });

  it('domains and IPs: last_https_certificate and jarm shaped like the capture\'s; URLs: last_http_response_headers', async () => {
    const domain = (await v3(sim, '/domains/m-3-of-90.example')).body.data.attributes;
    const real = (await capture('v3/domain_virustotal.com_benign.json')).data.attributes;
    expect(domain.jarm).toMatch(/^[0-9a-f]{62}$/);
    for (const key of ['validity', 'subject', 'issuer', 'thumbprint', 'thumbprint_sha256', 'serial_number', 'version', 'size', 'cert_signature', 'extensions', 'public_key']) {
      expect(domain.last_https_certificate, key).toHaveProperty(key);
      expect(real.last_https_certificate, `capture ${key}`).toHaveProperty(key);
    }
    expect(shapeOf(domain.last_https_certificate.validity)).toEqual(shapeOf(real.last_https_certificate.validity));
    expect(domain.last_https_certificate.validity.not_after).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect((await v3(sim, '/ip_addresses/198.18.0.90')).body.data.attributes.jarm).toMatch(/^[0-9a-f]{62}$/);
    const url = (await v3(sim, `/urls/${urlBase64Id('http://m-5-of-90.example/login')}`)).body.data.attributes;
    expect(Object.values(url.last_http_response_headers).every((value) => typeof value === 'string')).toBe(true);
    expect(url.last_http_response_headers['content-type']).toMatch(/^text\/html/);
  });

  it('crowdsourced YARA / IDS / Sigma, sandbox verdicts and GTI follow the depth option', async () => {
    const a = (await v3(sim, `/files/${CONTROLLED_FILE}`)).body.data.attributes;
    expect(a.gti_assessment).toMatchObject({ verdict: { value: 'VERDICT_MALICIOUS' }, threat_score: { value: 80 }, severity: { value: 'SEVERITY_HIGH' } });
    expect(a.sandbox_verdicts.Zenbox).toMatchObject({ category: 'malicious', sandbox_name: 'Zenbox', malware_classification: ['MALWARE'] });
    expect(a.sandbox_verdicts.C2AE).toMatchObject({ category: 'harmless', malware_classification: ['CLEAN'] });
    expect(a.crowdsourced_ids_stats).toEqual({ high: 2, info: 0, medium: 0, low: 1 });
    expect(a.crowdsourced_ids_results.map((r: any) => r.alert_severity)).toEqual(['high', 'high', 'low']);
    expect(a.sigma_analysis_stats).toEqual({ high: 0, medium: 2, critical: 1, low: 0 });
    expect(a.sigma_analysis_summary).toEqual({ 'Sigma Integrated Rule Set (GitHub)': a.sigma_analysis_stats });
    expect(a.crowdsourced_yara_results).toHaveLength(3);
    expect(a.crowdsourced_yara_results[0]).toEqual({
      ruleset_id: expect.stringMatching(/^[0-9a-f]{10}$/),
      rule_name: expect.any(String),
      ruleset_name: expect.any(String),
      description: expect.any(String),
      author: expect.any(String),
      match_date: expect.any(Number),
      source: expect.stringMatching(/^https:\/\//),
    });
    // The seeded default: a clean file has an undetected GTI verdict.
    expect((await v3(sim, `/files/${CLEAN_FILE}`)).body.data.attributes.gti_assessment.verdict.value).toBe('VERDICT_UNDETECTED');
  });

  it('serves no gti_assessment unless the simulator plays a GTI key', async () => {
    await withSimulator({}, async (plain) => {
      const a = (await v3(plain, `/files/${MALICIOUS_FILE}`)).body.data.attributes;
      expect(a).not.toHaveProperty('gti_assessment');
      expect(a).toHaveProperty('threat_severity');
    });
  });

  it('GET /yara_rulesets/{id} serves the rule text of a matched ruleset; unknown ids are 404', async () => {
    const [match] = (await v3(sim, `/files/${CONTROLLED_FILE}`)).body.data.attributes.crowdsourced_yara_results;
    const { status, body } = await v3(sim, `/yara_rulesets/${match.ruleset_id}`);
    expect(status).toBe(200);
    // The ruleset served is the one the match names.
    expect(body.data).toMatchObject({ type: 'yara_ruleset', id: match.ruleset_id, attributes: { rules: expect.stringMatching(new RegExp(`^rule ${match.ruleset_name}\\n`)), name: match.ruleset_name, author: match.author } });
    const missing = await v3(sim, '/yara_rulesets/not-a-ruleset');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NotFoundError');
  });
});

describe('relationships', () => {
  it('?relationships=a,b adds descriptors to the object in one request', async () => {
    sim.reset();
    const { status, body } = await v3(sim, `/files/${MALICIOUS_FILE}?relationships=contacted_domains,execution_parents`);
    expect(status).toBe(200);
    const rel = body.data.relationships;
    expect(Object.keys(rel)).toEqual(['contacted_domains', 'execution_parents']);
    expect(rel.contacted_domains.links).toEqual({
      self: `https://www.virustotal.com/api/v3/files/${MALICIOUS_FILE}/relationships/contacted_domains?limit=20`,
      related: `https://www.virustotal.com/api/v3/files/${MALICIOUS_FILE}/contacted_domains`,
    });
    for (const item of rel.contacted_domains.data) expect(Object.keys(item)).toEqual(['type', 'id']);
    expect(rel.contacted_domains.data[0].type).toBe('domain');
    expect(body.data.attributes.last_analysis_stats.malicious).toBe(40);
    expect(sim.stats().total).toBe(1);
    expect(sim.stats().byEndpoint).toEqual({ 'v3 files': 1 });
  });

  it('a one-to-one relationship is one descriptor; an unknown name is 400 InvalidArgumentError', async () => {
    const url = urlBase64Id('http://m-5-of-90.example/login');
    const { body } = await v3(sim, `/urls/${url}?relationships=network_location,last_serving_ip_address`);
    expect(body.data.relationships.network_location.data).toEqual({ type: 'domain', id: 'm-5-of-90.example' });
    expect(body.data.relationships.last_serving_ip_address.data).toEqual({ type: 'ip_address', id: expect.any(String) });
    const bad = await v3(sim, '/domains/clean.example?relationships=contacted_domains');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('InvalidArgumentError');
  });

  it('collections page with meta.cursor and links.next, deterministically, to the end', async () => {
    const path = `/files/${MALICIOUS_FILE}/contacted_ips`;
    const first = await v3(sim, `${path}?limit=4`);
    expect(first.status).toBe(200);
    const count = first.body.meta.count;
    expect(count).toBeGreaterThan(4);
    expect(first.body.data).toHaveLength(4);
    expect(first.body.data[0]).toMatchObject({ type: 'ip_address', id: expect.any(String), attributes: expect.any(Object) });
    const seen: string[] = [];
    let next: string | undefined = `${sim.v3Url}${path}?limit=4`;
    let pages = 0;
    while (next) {
      const relative: string = next.replace('https://www.virustotal.com/api/v3', '').replace(sim.v3Url, '');
      const page = await v3(sim, relative);
      seen.push(...page.body.data.map((item: any) => item.id));
      if (page.body.links.next) expect(page.body.links.next).toContain(`cursor=${encodeURIComponent(page.body.meta.cursor)}`);
      else expect(page.body.meta.cursor).toBeUndefined();
      next = page.body.links.next;
      pages++;
    }
    expect(seen).toHaveLength(count);
    expect(pages).toBe(Math.ceil(count / 4));
    // The same request gives the same page, in another simulator with the same seed too.
    await withSimulator({}, async (other) => {
      expect((await v3(other, `${path}?limit=4`)).body.data.map((item: any) => item.id)).toEqual(seen.slice(0, 4));
    });
  });

  it('/relationships/{name} serves descriptors; a related object VirusTotal lacks is an error item', async () => {
    const descriptors = await v3(sim, `/files/${MALICIOUS_FILE}/relationships/execution_parents?limit=40`);
    expect(descriptors.status).toBe(200);
    for (const item of descriptors.body.data) expect(Object.keys(item)).toEqual(['type', 'id']);
    const objects = await v3(sim, `/files/${MALICIOUS_FILE}/execution_parents?limit=40`);
    expect(objects.body.data.map((item: any) => item.id)).toEqual(descriptors.body.data.map((item: any) => item.id));
    for (const item of objects.body.data) {
      if (item.error) expect(item).toEqual({ error: { code: 'NotFoundError', message: expect.stringContaining(item.id) }, id: item.id, type: 'file' });
      else expect(item.attributes).toHaveProperty('last_analysis_stats');
    }
  });

  it('domain resolutions are resolution objects; a bad cursor is 400; a not-found object is 404', async () => {
    const { body } = await v3(sim, '/domains/malicious.example/resolutions?limit=2');
    expect(body.data[0]).toMatchObject({ type: 'resolution', attributes: { host_name: 'malicious.example', ip_address: expect.any(String), date: expect.any(Number) } });
    expect(body.data[0].id).toBe(`${body.data[0].attributes.ip_address}malicious.example`);
    expect((await v3(sim, '/domains/malicious.example/resolutions?cursor=bogus')).status).toBe(400);
    const missing = await v3(sim, '/domains/notfound.example/subdomains');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({ code: 'NotFoundError', message: 'Domain "notfound.example" not found' });
  });
});

describe('analyses', () => {
  it('POST /urls answers an analysis; GET /analyses/{id} has its stats; the URL now shows the new analysis date', async () => {
    const url = 'http://m-7-of-90.example/fresh';
    const before = (await v3(sim, `/urls/${urlBase64Id(url)}`)).body.data.attributes.last_analysis_date;
    const response = await fetch(`${sim.v3Url}/urls`, { method: 'POST', headers: { 'x-apikey': GOOD_KEY }, body: new URLSearchParams({ url }) });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as any;
    const sha = urlSha256(url);
    expect(data).toEqual({ type: 'analysis', id: `u-${sha}-${NOW_MS / 1000}`, links: { self: `https://www.virustotal.com/api/v3/analyses/u-${sha}-${NOW_MS / 1000}` } });
    const analysis = await v3(sim, `/analyses/${data.id}`);
    expect(analysis.body.data.attributes).toMatchObject({ status: 'completed', date: NOW_MS / 1000, stats: { malicious: 7 } });
    expect(Object.keys(analysis.body.data.attributes.results)).toHaveLength(90);
    expect(analysis.body.meta.url_info).toEqual({ id: sha, url: 'http://m-7-of-90.example/fresh' });
    const after = (await v3(sim, `/urls/${urlBase64Id(url)}`)).body.data.attributes.last_analysis_date;
    expect(before).toBeLessThan(NOW_MS / 1000);
    expect(after).toBe(NOW_MS / 1000);
  });

  it('POST /files/{id}/analyse answers an analysis id (base64 of md5:date) and counts as its own request', async () => {
    sim.reset();
    const response = await fetch(`${sim.v3Url}/files/${MALICIOUS_FILE}/analyse`, { method: 'POST', headers: { 'x-apikey': GOOD_KEY } });
    const { data } = (await response.json()) as any;
    const md5 = (await v3(sim, `/files/${MALICIOUS_FILE}`)).body.data.attributes.md5;
    expect(Buffer.from(data.id, 'base64').toString()).toBe(`${md5}:${NOW_MS / 1000}`);
    const analysis = await v3(sim, `/analyses/${data.id}`);
    expect(analysis.body.meta.file_info).toMatchObject({ md5, sha256: MALICIOUS_FILE });
    expect(sim.stats().byEndpoint).toEqual({ 'v3 files analyse': 1, 'v3 files': 1, 'v3 analyses': 1 });
    const unknown = await fetch(`${sim.v3Url}/files/${observableFor({ type: 'sha256', status: 'not_found' })}/analyse`, { method: 'POST', headers: { 'x-apikey': GOOD_KEY } });
    expect(unknown.status).toBe(404);
    expect((await v3(sim, '/analyses/no-such-analysis')).status).toBe(404);
  });
});

describe('paths the simulator does not simulate', () => {
  it('answer a JSON error that says so (v3 and v2)', async () => {
    const three = await v3(sim, '/intelligence/search?query=x');
    expect(three.status).toBe(404);
    expect(three.body.error).toEqual({ code: 'NotFoundError', message: expect.stringContaining('is not simulated') });
    const two = await v2(sim, 'file/behaviour', { apikey: GOOD_KEY, hash: CLEAN_FILE });
    expect(two.status).toBe(404);
    expect(two.body.error.message).toContain('is not simulated');
  });
});

describe('v2 fidelity', () => {
  it('reads the key from a multipart body', async () => {
    const form = new FormData();
    form.append('apikey', GOOD_KEY);
    form.append('resource', CLEAN_FILE);
    const response = await fetch(`${sim.v2Url}/file/report`, { method: 'POST', body: form });
    expect(response.headers.get('content-type')).toMatch(/json/);
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).resource).toBe(CLEAN_FILE);
  });

  it('does not serve scan or rescan submissions as reports, echoes the resource, and reports duplicate captures', async () => {
    await withSimulator({ fixturesDir: SHADOWING }, async (shadow) => {
      const sha = '01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b';
      const bySha = await v2(shadow, 'file/report', { apikey: GOOD_KEY, resource: sha });
      expect(bySha.body).toMatchObject({ response_code: 1, positives: 0, resource: sha, md5: '68b329da9893e34099c7d8ad5cb9c940' });
      expect(bySha.body.scans).toBeDefined();
      const byMd5 = await v2(shadow, 'file/report', { apikey: GOOD_KEY, resource: '68B329DA9893E34099C7D8AD5CB9C940' });
      expect(byMd5.body.resource).toBe('68B329DA9893E34099C7D8AD5CB9C940');
      const url = await v2(shadow, 'url/report', { apikey: GOOD_KEY, resource: 'http://www.google.com/' });
      expect(url.body).toMatchObject({ response_code: 1, positives: 0, resource: 'http://www.google.com/' });
      expect(url.body.scans).toBeDefined();
      expect(shadow.fixtureDuplicates()).toEqual([
        { api: 'v3', key: `file:${sha}`, kept: join(SHADOWING, 'v3/file_01ba4719_clean_unknown_type.json'), ignored: join(SHADOWING, 'v3/file_01ba4719_win32_exe_malicious.json') },
      ]);
      expect((await v3(shadow, `/files/${sha}`)).body.data.attributes.last_analysis_stats.malicious).toBe(0);
    });
  });
});

describe('what VirusTotal\'s Python client (vt-py) expects', () => {
  // vt-py is not installable here (PyPI is out of reach), so these follow its code instead:
  // Iterator sends `limit` and `cursor` (from meta.cursor) and stops when meta.cursor is absent
  // or empty; Object.from_dict needs `type` and `id` on every item; scan_url posts the form
  // field `url` and wait_for_completion polls /analyses/{id} until status is "completed".
  it('Iterator: limit/cursor parameters until meta.cursor is gone, every item an object with type and id', async () => {
    const path = `/files/${MALICIOUS_FILE}/contacted_domains`;
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const params = new URLSearchParams({ limit: '7', ...(cursor ? { cursor } : {}) });
      const { status, body } = await v3(sim, `${path}?${params}`);
      expect(status).toBe(200);
      expect(Array.isArray(body.data)).toBe(true);
      for (const item of body.data) {
        expect(typeof item.type).toBe('string');
        expect(typeof item.id).toBe('string');
        if (!item.error) expect(typeof item.attributes).toBe('object');
      }
      ids.push(...body.data.map((item: any) => item.id));
      cursor = body.meta.cursor;
    } while (cursor);
    expect(ids).toHaveLength((await v3(sim, `${path}?limit=40`)).body.meta.count);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('scan_url + wait_for_completion: the analysis is completed when polled', async () => {
    const form = new FormData();
    form.append('url', 'http://m-2-of-90.example/vt-py');
    const posted = (await (await fetch(`${sim.v3Url}/urls`, { method: 'POST', headers: { 'x-apikey': GOOD_KEY }, body: form })).json()) as any;
    const analysis = await v3(sim, `/analyses/${posted.data.id}`);
    expect(analysis.body.data).toMatchObject({ type: 'analysis', id: posted.data.id, attributes: { status: 'completed' } });
    expect(Number.isInteger(analysis.body.data.attributes.date)).toBe(true);
  });
});
