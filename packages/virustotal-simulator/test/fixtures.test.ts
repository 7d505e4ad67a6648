import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, urlBase64Id, type Simulator } from '../src/index.js';
import { GOOD_KEY, v2, v3 } from './helpers.js';

const DIR = fileURLToPath(new URL('./fixtures/captures', import.meta.url));
const capture = async (path: string) => JSON.parse(await readFile(join(DIR, path), 'utf8'));

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    fixturesDir: DIR,
    fixtures: [{ api: 'v3', body: { data: { type: 'domain', id: 'in-code.test', attributes: { registrar: 'Given In Code' } } } }],
  });
});
afterAll(async () => {
  await sim.close();
});

describe('captured responses (fixturesDir)', () => {
  it('serves a v3 capture for its own observable instead of a generated object', async () => {
    const { body } = await v3(sim, '/ip_addresses/142.251.220.110');
    expect(body).toEqual(await capture('v3/ip_address_142.251.220.110_google.json'));
    expect((await v3(sim, '/domains/virustotal.com')).body).toEqual(await capture('v3/domain_virustotal.com_benign.json'));
  });

  it('wraps a capture saved without {data} and finds a file by any of its hashes', async () => {
    const object = await capture('v3/file_object_malicious_pe_03bd9a94.json');
    for (const hash of [object.attributes.md5, object.attributes.sha1, object.id]) {
      expect((await v3(sim, `/files/${hash}`)).body).toEqual({ data: object });
    }
  });

  it('finds a URL capture by the base64url id of its URL', async () => {
    const { body } = await v3(sim, `/urls/${urlBase64Id('http://www.google.com')}`);
    expect(body).toEqual(await capture('v3/url_google.com_benign.json'));
  });

  it('serves v2 captures: file (also inside a batch), url, domain (named by whois) and ip (named by file name)', async () => {
    const detected = await capture('v2/file_report_detected_65of71.json');
    expect((await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: detected.md5 })).body).toEqual(detected);
    const batch = await capture('v2/file_report_batch_3_resources.json');
    const resources = batch.map((r: { md5: string }) => r.md5).join(',');
    // Each report echoes the resource as this request sent it (here the md5), as VirusTotal does.
    expect((await v2(sim, 'file/report', { apikey: GOOD_KEY, resource: resources }, true)).body).toEqual(batch.map((report: { md5: string }) => ({ ...report, resource: report.md5 })));
    expect((await v2(sim, 'url/report', { apikey: GOOD_KEY, resource: 'http://www.microsoft.com' })).body).toEqual({ ...(await capture('v2/url_report_clean_microsoft.json')), resource: 'http://www.microsoft.com' });
    expect((await v2(sim, 'domain/report', { apikey: GOOD_KEY, domain: 'python.org' })).body).toEqual(await capture('v2/domain_report_benign_python.org.json'));
    expect((await v2(sim, 'ip-address/report', { apikey: GOOD_KEY, ip: '8.8.8.8' })).body).toEqual(await capture('v2/ip_address_report_8.8.8.8_2014.json'));
  });

  it('serves fixtures given in code, and still generates everything else', async () => {
    expect((await v3(sim, '/domains/in-code.test')).body.data.attributes.registrar).toBe('Given In Code');
    const generated = await v3(sim, '/domains/m-5-of-70.example');
    expect(generated.body.data.attributes.last_analysis_stats.malicious).toBe(5);
    expect(sim.stats().total).toBeGreaterThan(0);
    expect(((await (await fetch(`${sim.url}/__sim/stats`)).json()) as { fixtures: number }).fixtures).toBe(10);
  });

  it('refuses a folder with invalid JSON, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vt-sim-'));
    try {
      await writeFile(join(dir, 'broken.json'), '{"data": ');
      await expect(startSimulator({ fixturesDir: dir })).rejects.toThrow(/broken\.json/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
