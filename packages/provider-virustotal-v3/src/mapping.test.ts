import fc from 'fast-check';
import { isUpstreamError, type Observable } from '@x/core';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { attributesOf, fixtureNames, loadFixture, type LooseAttributes } from '../test/load-fixture.js';
import { DEFAULT_MALICE_RULES } from './malice-rules.js';
import { cleanNote, lookupFor, mapV3Object, parseV3Error, popularThreatName, unixToIso, urlIdentifier } from './mapping.js';

/** The seed page's thresholds, written out again independently of the rule engine. */
function expectedVerdict(stats: Record<string, number> | undefined): string {
  if (!stats) return 'unknown';
  const malicious = stats.malicious ?? 0;
  const suspicious = stats.suspicious ?? 0;
  if (malicious >= 5) return 'malicious';
  if (malicious >= 1 || suspicious >= 3) return 'suspicious';
  return 'benign';
}

const iso = (seconds: unknown) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : null);
const sum = (stats: Record<string, number> | undefined) => (stats ? Object.values(stats).reduce((a, b) => a + b, 0) : null);

/** The highest-count threat name by sorting a copy (stable sort keeps the first on ties). */
function expectedThreatName(attributes: LooseAttributes): string | null {
  const classification = attributes.popular_threat_classification;
  const names = [...(classification?.popular_threat_name ?? [])].sort((a, b) => b.count - a.count);
  return names[0]?.value ?? classification?.suggested_threat_label ?? null;
}

function map(name: string, observable: Observable) {
  const outcome = mapV3Object(observable, loadFixture(name), DEFAULT_MALICE_RULES);
  if (outcome.kind !== 'found') throw new Error(`${name}: expected a found outcome, got ${outcome.kind}`);
  return outcome;
}

function failure(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('lookup paths', () => {
  it.each([
    ['ipv4', '1.1.1.1', 'ip_addresses'],
    ['ipv6', '2001:db8::1', 'ip_addresses'],
    ['domain', 'example.org', 'domains'],
    ['md5', '68b329da9893e34099c7d8ad5cb9c940', 'files'],
    ['sha1', 'adc83b19e793491b1c6ea0fd8b46cd9f32e592fc', 'files'],
    ['sha256', '01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b', 'files'],
  ] as const)('looks %s %s up in /%s', (type, value, collection) => {
    expect(lookupFor({ type, value })).toMatchObject({ collection, id: value });
  });

  it('identifies a URL by its unpadded base64url form', () => {
    const url = 'https://www.dropbox.com/s/qmi112rc4ns75eb/Confidential_123.xls?dl=1>';
    const id = urlIdentifier(url);
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(id.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')).toBe(url);
    expect(lookupFor({ type: 'url', value: url })).toEqual({ collection: 'urls', objectType: 'url', id });
  });

  it('keeps the keys in the order the spread from LOOKUPS gave them', () => {
    expect(Object.keys(lookupFor({ type: 'ipv4', value: '1.1.1.1' }))).toEqual(['collection', 'objectType', 'id']);
    expect(Object.keys(lookupFor({ type: 'url', value: 'https://example.org/' }))).toEqual(['collection', 'objectType', 'id']);
  });
});

describe('unix seconds to ISO 8601', () => {
  it('converts seconds to UTC and leaves missing or zero dates null', () => {
    expect(unixToIso(1599045062)).toBe('2020-09-02T11:11:02.000Z');
    expect(unixToIso(0)).toBeNull();
    expect(unixToIso(undefined)).toBeNull();
    expect(unixToIso(null)).toBeNull();
    // The last instant a Date can hold, and just past it.
    expect(unixToIso(8.64e12)).toBe('+275760-09-13T00:00:00.000Z');
    expect(unixToIso(8.64e12 + 0.002)).toBeNull();
    expect(unixToIso(1e300)).toBeNull();
    expect(unixToIso(0.0005)).toBe('1970-01-01T00:00:00.000Z');
  });

  it("writes what Date's toISOString writes, for random and edge instants", () => {
    // The hand-written formatter (years 1970 to 9999) against the Date it replaces.
    const viaDate = (seconds: number) => new Date(seconds * 1000).toISOString();
    const seconds: number[] = [1e-300, 0.0005, 0.001, 0.0019, 1, 59.999, 60, 3599.9999, 86_399.999, 86_400, 951_782_400, 951_868_799.999, 4_107_542_399, 4_107_542_400];
    // Around every year's start and the end of February, 1970 to 9999 (leap years, centuries, 2000).
    for (let year = 1970; year <= 9999; year += year < 2200 ? 1 : 37) {
      for (const month of [0, 1, 2, 11]) {
        const start = Date.UTC(year, month, 1) / 1000;
        seconds.push(start, start - 0.001, start + 0.0004, start - 1, start + 86_399.9995);
      }
    }
    seconds.push(253_402_300_799.999, 253_402_300_799.9999, 253_402_300_800, 253_402_300_800.001, 8.64e12);
    // (0 and earlier are null: VirusTotal's "no date".)
    for (const s of seconds.filter((s) => s > 0)) expect(unixToIso(s), String(s)).toBe(viaDate(s));
    // Random instants: whole seconds (what VirusTotal sends), milliseconds and odd fractions, over the whole range.
    const instants = fc.oneof(
      fc.integer({ min: 1, max: 4e9 }),
      fc.integer({ min: 1, max: 2.5e14 }).map((ms) => ms / 1000),
      fc.double({ min: Number.MIN_VALUE, max: 2.6e11, noNaN: true }),
    );
    fc.assert(
      fc.property(instants, (s) => {
        expect(unixToIso(s), String(s)).toBe(viaDate(s));
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('IP address objects', () => {
  it.each(fixtureNames('ip_address_'))('maps %s with the seed-page fields and verdict', (name) => {
    const object = attributesOf(loadFixture(name));
    const a = object.attributes;
    const outcome = map(name, { type: 'ipv4', value: object.id });
    expect(outcome.verdict).toBe(expectedVerdict(a.last_analysis_stats));
    expect(outcome.extracted).toEqual({
      malicious_count: a.last_analysis_stats?.malicious ?? null,
      suspicious_count: a.last_analysis_stats?.suspicious ?? null,
      harmless_count: a.last_analysis_stats?.harmless ?? null,
      country: a.country ?? null,
      as_owner: a.as_owner ?? null,
      network: a.network ?? null,
      total_engines: sum(a.last_analysis_stats),
      last_analysis_date: iso(a.last_analysis_date),
      reputation: a.reputation ?? null,
      tags: a.tags ?? null,
      gui_url: `https://www.virustotal.com/gui/ip-address/${object.id}`,
    });
  });

  it('keeps country null when the capture has none, and judges 4 malicious engines suspicious', () => {
    const outcome = map('ip_address_1.1.1.1_malicious4_no_country', { type: 'ipv4', value: '1.1.1.1' });
    expect(outcome.extracted.country).toBeNull();
    expect(outcome.extracted.as_owner).toBe('CLOUDFLARENET');
    expect(outcome.verdict).toBe('suspicious');
    expect(outcome.reasons).toEqual([
      expect.objectContaining({ rule: 'malicious_count>=1 || suspicious_count>=3', values: { malicious_count: 4 } }),
    ]);
    expect(outcome.reasons[0]!.message).toContain('malicious_count 4 >= 1');
  });

  it('gives the 2019 object without last_analysis_stats verdict unknown (not benign), keeping what it has', () => {
    const outcome = map('ip_address_1.1.1.1_cloudflare_2019_no_analysis', { type: 'ipv4', value: '1.1.1.1' });
    expect(outcome.kind).toBe('found');
    expect(outcome.verdict).toBe('unknown');
    expect(outcome.reasons.map((reason) => reason.rule)).toEqual(['no_analysis_stats']);
    expect(outcome.extracted).toMatchObject({ malicious_count: null, total_engines: null, country: 'AU', as_owner: 'Cloudflare, Inc.', network: '1.1.1.0/24' });
  });
});

describe('domain objects', () => {
  it.each(fixtureNames('domain_'))('maps %s with the seed-page fields and verdict', (name) => {
    const object = attributesOf(loadFixture(name));
    const a = object.attributes;
    const outcome = map(name, { type: 'domain', value: object.id });
    expect(outcome.verdict).toBe(expectedVerdict(a.last_analysis_stats));
    expect(outcome.extracted).toEqual({
      malicious_count: a.last_analysis_stats?.malicious ?? null,
      suspicious_count: a.last_analysis_stats?.suspicious ?? null,
      categories: a.categories ?? null,
      registrar: a.registrar ?? null,
      creation_date: iso(a.creation_date),
      total_engines: sum(a.last_analysis_stats),
      last_analysis_date: iso(a.last_analysis_date),
      reputation: a.reputation ?? null,
      tags: a.tags ?? null,
      gui_url: `https://www.virustotal.com/gui/domain/${encodeURIComponent(object.id)}`,
    });
  });

  it('counts engines from last_analysis_stats, not from the trimmed results list (98, not 3)', () => {
    const capture = loadFixture('domain_with_relationships_redacted');
    expect(Object.keys(attributesOf(capture).attributes.last_analysis_results)).toHaveLength(3);
    const outcome = map('domain_with_relationships_redacted', { type: 'domain', value: 'test.example' });
    expect(outcome.extracted.total_engines).toBe(98);
    expect(outcome.verdict).toBe('malicious');
    expect(outcome.reasons[0]).toMatchObject({ rule: 'malicious_count>=5', values: { malicious_count: 8 } });
  });

  it('judges the 2019 github.com object unknown for lack of analysis, with registrar and creation date', () => {
    const outcome = map('domain_github.com_2019_no_analysis', { type: 'domain', value: 'github.com' });
    expect(outcome.verdict).toBe('unknown');
    expect(outcome.reasons[0]!.rule).toBe('no_analysis_stats');
    expect(outcome.extracted).toMatchObject({ registrar: 'MarkMonitor Inc.', creation_date: '2007-10-09T11:20:50.000Z' });
  });

  it('builds an indicator entity named after the observable, carrying verdict and fields', () => {
    const outcome = map('domain_google.com_malicious1', { type: 'domain', value: 'google.com' });
    expect(outcome.verdict).toBe('suspicious');
    expect(outcome.entities).toEqual([
      { type: 'indicator', name: 'Indicator of domain: google.com', observable: { type: 'domain', value: 'google.com' }, verdict: 'suspicious', confidence: null, fields: outcome.extracted },
    ]);
  });
});

describe('file objects', () => {
  it.each(fixtureNames('file_'))('maps %s with the seed-page fields, verdict and threat entities', (name) => {
    const object = attributesOf(loadFixture(name));
    const a = object.attributes;
    const outcome = map(name, { type: 'sha256', value: object.id });
    expect(outcome.verdict).toBe(expectedVerdict(a.last_analysis_stats));
    expect(outcome.extracted).toEqual({
      malicious_count: a.last_analysis_stats.malicious,
      suspicious_count: a.last_analysis_stats.suspicious,
      type_description: a.type_description ?? null,
      file_size: a.size ?? null,
      first_submission_date: iso(a.first_submission_date),
      popular_threat_name: expectedThreatName(a),
      md5: a.md5 ?? null,
      sha1: a.sha1 ?? null,
      sha256: a.sha256 ?? null,
      total_engines: sum(a.last_analysis_stats),
      last_analysis_date: iso(a.last_analysis_date),
      reputation: a.reputation ?? null,
      tags: a.tags ?? null,
      gui_url: `https://www.virustotal.com/gui/file/${object.id}`,
    });
    const classification = a.popular_threat_classification ?? {};
    const ttps = outcome.entities.filter((entity) => entity.type === 'ttp');
    expect(ttps).toHaveLength((classification.popular_threat_name?.length ?? 0) + (classification.popular_threat_category?.length ?? 0));
    for (const entry of classification.popular_threat_category ?? []) {
      expect(ttps).toContainEqual(expect.objectContaining({ name: entry.value, category: 'threat_category', count: entry.count }));
    }
  });

  it('covers several file types, malicious and clean', () => {
    const types = new Set(fixtureNames('file_').map((name) => attributesOf(loadFixture(name)).attributes.type_description));
    expect(types.size).toBeGreaterThanOrEqual(8);
    const verdicts = new Set(fixtureNames('file_').map((name) => map(name, { type: 'sha256', value: attributesOf(loadFixture(name)).id }).verdict));
    expect([...verdicts].sort()).toEqual(['benign', 'malicious', 'suspicious']);
  });

  it('picks the highest-count popular threat name (bjlog, 14) over later ones', () => {
    const outcome = map('file_c36b147f_win32_exe_malicious64', { type: 'sha256', value: 'c36b147f86bdeeced8b29342ee7d62a4eaaf79d4332f213a2527221a09a65691' });
    expect(outcome.extracted.popular_threat_name).toBe('bjlog');
    expect(outcome.entities).toContainEqual(expect.objectContaining({ type: 'ttp', name: 'bjlog', category: 'threat_name', count: 14 }));
  });

  it('falls back to the suggested label when there are no popular names', () => {
    expect(popularThreatName({ suggested_threat_label: 'trojan.x', popular_threat_name: [] })).toBe('trojan.x');
    expect(popularThreatName(undefined)).toBeNull();
  });

  it('reports the spliced capture as sent: id and sha256 from one file, md5 from another, never "fixed"', () => {
    const object = attributesOf(loadFixture('file_01ba4719_win32_exe_malicious'));
    // Looked up by the md5 that the capture carries (which belongs to a different file).
    const outcome = map('file_01ba4719_win32_exe_malicious', { type: 'md5', value: object.attributes.md5 });
    expect(outcome.extracted.md5).toBe('e2a1373f5a0024b81742be35880f9422');
    expect(outcome.extracted.sha256).toBe(object.id);
    expect(outcome.extracted.gui_url).toBe(`https://www.virustotal.com/gui/file/${object.id}`);
    expect(outcome.verdict).toBe('malicious');
    expect(outcome.entities[0]!.name).toBe('Indicator of md5: e2a1373f5a0024b81742be35880f9422');
  });

  it('maps a bare object (no data wrapper) like a wrapped one', () => {
    const bare = loadFixture('file_object_malicious_pe_03bd9a94');
    expect(bare).not.toHaveProperty('data');
    const observable: Observable = { type: 'sha256', value: '03bd9a94482f180bb047626cb2f27ccf8daa0e201345480b43585580e09c311b' };
    const { raw: _wrappedRaw, ...wrapped } = mapV3Object(observable, { data: bare }, DEFAULT_MALICE_RULES);
    const { raw, ...outcome } = mapV3Object(observable, bare, DEFAULT_MALICE_RULES);
    expect(outcome).toEqual(wrapped);
    expect(raw).toBe(bare);
    expect(outcome).toMatchObject({ kind: 'found', verdict: 'malicious', extracted: { popular_threat_name: 'msil' } });
  });

  it.each(['md5', 'sha1', 'sha256'] as const)('maps the object found by its %s the same way', (type) => {
    const object = attributesOf(loadFixture('file_f36005f6_elf_clean'));
    const outcome = map('file_f36005f6_elf_clean', { type, value: object.attributes[type] });
    expect(outcome.verdict).toBe('benign');
    expect(outcome.extracted.gui_url).toBe(`https://www.virustotal.com/gui/file/${object.id}`);
  });
});

describe('URL objects', () => {
  it.each(fixtureNames('url_'))('maps %s with counts, final URL, title and categories', (name) => {
    const object = attributesOf(loadFixture(name));
    const a = object.attributes;
    const outcome = map(name, { type: 'url', value: a.url });
    expect(outcome.verdict).toBe(expectedVerdict(a.last_analysis_stats));
    expect(outcome.extracted).toMatchObject({
      malicious_count: a.last_analysis_stats.malicious,
      suspicious_count: a.last_analysis_stats.suspicious,
      harmless_count: a.last_analysis_stats.harmless,
      url: a.url,
      final_url: a.last_final_url ?? null,
      title: a.title ?? null,
      categories: a.categories ?? null,
      total_engines: sum(a.last_analysis_stats),
      last_analysis_date: iso(a.last_analysis_date),
    });
  });

  it('judges the Dropbox XLS URL malicious (5 engines) and links its GUI page by SHA-256', () => {
    const outcome = map('url_dropbox_xls_malicious', { type: 'url', value: 'https://www.dropbox.com/s/qmi112rc4ns75eb/Confidential_123.xls?dl=1' });
    expect(outcome.verdict).toBe('malicious');
    expect(outcome.extracted).toMatchObject({ final_url: 'https://www.dropbox.com/s/dl/qmi112rc4ns75eb/Confidential_123.xls', title: 'Dropbox - 404' });
    expect(outcome.extracted.gui_url).toBe('https://www.virustotal.com/gui/url/bb5fe735ff0130d4f56ea798b5c3c24140467300baadbe7422ef4961a3663903');
  });

  it('takes the SHA-256 out of an analysis-style id (u-<sha256>-<time>)', () => {
    const outcome = map('url_google.com_benign', { type: 'url', value: 'http://www.google.com/' });
    expect(outcome.extracted.gui_url).toBe('https://www.virustotal.com/gui/url/a354494a73382ea0b4bc47f4c9e8d6c578027cd4598196dc88f05a22b5817293');
    expect(outcome.verdict).toBe('benign');
    expect(outcome.reasons[0]).toMatchObject({ rule: 'no_detections', values: { malicious_count: 0, suspicious_count: 0 } });
  });
});

describe('error envelopes', () => {
  it.each([
    ['error_400_InvalidArgumentError_domain', 'InvalidArgumentError'],
    ['error_401_WrongCredentialsError', 'WrongCredentialsError'],
    ['error_404_NotFoundError_file', 'NotFoundError'],
    ['error_429_QuotaExceededError', 'QuotaExceededError'],
  ])('reads the code of %s', (name, code) => {
    expect(parseV3Error(loadFixture(name))?.code).toBe(code);
  });

  it('answers what the error schema answers, for envelopes of every shape', () => {
    // The schema parseV3Error used alone before its fast path for plain JSON envelopes.
    const zEnvelope = z.looseObject({ error: z.looseObject({ code: z.string(), message: z.string().optional() }) });
    class Box {
      error = { code: 'NotFoundError' };
    }
    const bodies: unknown[] = [
      ...['error_400_InvalidArgumentError_domain', 'error_401_WrongCredentialsError', 'error_404_NotFoundError_file', 'error_429_QuotaExceededError'].map((name) => loadFixture(name)),
      { error: { code: 'NotFoundError', message: 'x', extra: [1, { a: 2 }] }, other: true },
      { error: { code: 'NotFoundError' } },
      { error: { code: 'NotFoundError', message: undefined } },
      { error: { code: 'NotFoundError', message: null } },
      { error: { code: 'NotFoundError', message: 7 } },
      { error: { code: 7, message: 'x' } },
      { error: { message: 'x' } },
      { error: 'NotFoundError' },
      { error: ['NotFoundError'] },
      { error: null },
      {},
      [],
      JSON.parse('{"error":{"code":"NotFoundError","__proto__":{"message":"m"}}}'),
      JSON.parse('{"__proto__":{"error":{"code":"c"}},"error":{"code":"NotFoundError"}}'),
      Object.assign(Object.create(null), { error: { code: 'NotFoundError' } }),
      { error: Object.assign(Object.create(null), { code: 'NotFoundError' }) },
      new Box(),
      { error: new Box().error },
      loadFixture('domain_google.com_malicious1'),
      'Quota exceeded',
      null,
      undefined,
      42,
    ];
    for (const body of bodies) {
      const parsed = zEnvelope.safeParse(body);
      expect(parseV3Error(body), JSON.stringify(body)).toEqual(parsed.success ? parsed.data.error : undefined);
    }
  });

  it('is not fooled by objects, strings or nothing', () => {
    expect(parseV3Error(loadFixture('domain_google.com_malicious1'))).toBeUndefined();
    expect(parseV3Error('Quota exceeded')).toBeUndefined();
    expect(parseV3Error(undefined)).toBeUndefined();
  });
});

describe('bodies that are not a v3 object', () => {
  const observable: Observable = { type: 'domain', value: 'example.org' };
  it.each([
    ['a string', 'hello'],
    ['null', null],
    ['a collection', { data: [] }],
    ['an error envelope', { error: { code: 'NotFoundError', message: 'x' } }],
    ['stats that are not numbers', { data: { type: 'domain', id: 'example.org', attributes: { last_analysis_stats: 'lots' } } }],
    ['an object of another type', { data: { type: 'file', id: 'abc', attributes: {} } }],
  ])('turns %s into an UpstreamError bad_response', (_what, body) => {
    const error = failure(() => mapV3Object(observable, body, DEFAULT_MALICE_RULES));
    expect(isUpstreamError(error) && error.kind).toBe('bad_response');
    expect(isUpstreamError(error) && error.retryable).toBe(false);
  });
});

describe('objects awaiting analysis', () => {
  const zeroStats = { malicious: 0, suspicious: 0, harmless: 0, undetected: 0, timeout: 0 };

  it('reports a file with all-zero stats (queued) as pending, not benign', () => {
    const observable = { type: 'sha256', value: 'a'.repeat(64) } as const;
    const body = { data: { type: 'file', id: 'a'.repeat(64), attributes: { last_analysis_stats: zeroStats, last_analysis_results: {} } } };
    const outcome = mapV3Object(observable, body, DEFAULT_MALICE_RULES);
    expect(outcome.kind).toBe('pending');
    expect(outcome.reasons?.[0]?.rule).toBe('no_engine_results');
  });

  it('reports a URL with all-zero stats (queued) as pending, not benign', () => {
    const url = 'http://queued.example/';
    const body = { data: { type: 'url', id: 'b'.repeat(64), attributes: { url, last_analysis_stats: zeroStats } } };
    const outcome = mapV3Object({ type: 'url', value: url }, body, DEFAULT_MALICE_RULES);
    expect(outcome.kind).toBe('pending');
    expect(outcome.reasons?.[0]?.rule).toBe('no_engine_results');
  });

  // VirusTotal never queues IPs or domains: all-zero stats are its answer, judged by the rules
  // like any other (and cached), instead of a pending that would be fetched again every time.
  it.each([
    [{ type: 'ipv4', value: '192.0.2.1' }, 'ip_address'],
    [{ type: 'ipv6', value: '2001:db8::1' }, 'ip_address'],
    [{ type: 'domain', value: 'example.org' }, 'domain'],
  ] as const)('judges %o with all-zero stats by the rules: found, benign', (observable, type) => {
    const body = { data: { type, id: observable.value, attributes: { last_analysis_stats: zeroStats } } };
    const outcome = mapV3Object(observable, body, DEFAULT_MALICE_RULES);
    // A clean result carries the note saying how many engines saw it: here none did.
    expect(outcome).toMatchObject({ kind: 'found', verdict: 'benign', confidence: null, reasons: [{ rule: 'no_detections' }, { rule: 'clean_note', values: { engines_analysed: 0 } }] });
    expect(outcome.kind === 'found' && outcome.extracted).toMatchObject({ malicious_count: 0, suspicious_count: 0, total_engines: 0 });
  });
});

describe('GUI links and clean notes', () => {
  const body = (type: string, id: string, stats: Record<string, number> = { harmless: 70, undetected: 20, malicious: 0, suspicious: 0, timeout: 2 }) => ({
    data: { type, id, attributes: { last_analysis_stats: stats, last_analysis_date: 1_700_000_000 } },
  });

  it('links the GUI page with the id percent-encoded as encodeURIComponent does, whatever its characters (a property test)', () => {
    const ids = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('8.8.8.8', "a-b_c.d!e~f*g'h(i)j", '2001:db8::1', 'a b/c?d#e%f', 'bücher.example', 'Z9'));
    fc.assert(
      fc.property(ids, (id) => {
        for (const [type, objectType, kind] of [
          ['ipv4', 'ip_address', 'ip-address'],
          ['ipv6', 'ip_address', 'ip-address'],
          ['domain', 'domain', 'domain'],
        ] as const) {
          const outcome = mapV3Object({ type, value: id }, body(objectType, id), DEFAULT_MALICE_RULES);
          if (outcome.kind !== 'found') throw new Error(`expected found, got ${outcome.kind}`);
          expect(outcome.extracted.gui_url).toBe(`https://www.virustotal.com/gui/${kind}/${encodeURIComponent(id)}`);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it("writes the clean note from the object's total_engines as from its own sum of the counts", () => {
    const stats = { harmless: 70, undetected: 20, malicious: 1, suspicious: 0, timeout: 2, 'type-unsupported': 3 };
    const outcome = mapV3Object({ type: 'domain', value: 'example.com' }, body('domain', 'example.com', stats), [{ name: 'no_detections', verdict: 'benign' }]);
    if (outcome.kind !== 'found') throw new Error(`expected found, got ${outcome.kind}`);
    expect(outcome.extracted.total_engines).toBe(96);
    expect(outcome.reasons[1]).toEqual(cleanNote(stats, '2023-11-14T22:13:20.000Z'));
    expect(cleanNote(stats, null, 96)).toEqual(cleanNote(stats, null));
    expect(outcome.reasons[1]?.message).toBe('90 of the 91 engines that analysed it on 2023-11-14 found nothing (70 harmless, 20 undetected), 1 flagged it; 5 more could not analyse it (unsupported type, timeout or failure).');
  });
});
