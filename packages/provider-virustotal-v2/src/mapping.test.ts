import { isUpstreamError, type Observable, type ProviderOutcome } from '@x/core';
import { describe, expect, it } from 'vitest';
import { detectionNames, mapV2Report, splitBatchAnswer, toIsoDate, worstDetectedUrl } from './mapping.js';
import { loadFixture } from '../test/load-fixture.js';

const thresholds = { lowConfidenceInfectionRateMax: 33, highConfidenceInfectionRateMin: 66 };

type Report = Record<string, unknown> & { positives: number; total: number; scans: Record<string, { detected: boolean; result: string | null }> };
type HostReport = Record<string, unknown> & { detected_urls?: Array<{ url: string; positives: number; total: number }> };

function found(outcome: ProviderOutcome) {
  if (outcome.kind !== 'found') throw new Error(`expected found, got ${outcome.kind}`);
  return outcome;
}

function expectBadResponse(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(isUpstreamError(error) && error.kind).toBe('bad_response');
    return;
  }
  throw new Error('expected an UpstreamError');
}

/**
 * The documented confidence, written out again independently of the code under test:
 * rate = positives / total x 100; below the low maximum -> low, above the high minimum -> high,
 * from one to the other (both inclusive) -> medium; nothing detected -> benign, no confidence.
 */
function expectedConfidence(positives: number, total: number, low = 33, high = 66): 'low' | 'medium' | 'high' | null {
  if (positives === 0) return null;
  const rate = (positives / total) * 100;
  if (rate < low) return 'low';
  if (rate > high) return 'high';
  return 'medium';
}

/** The worst positives/total among detected_urls, computed independently of the code under test. */
function worstRate(report: HostReport): number {
  return Math.max(0, ...(report.detected_urls ?? []).filter((u) => u.total > 0).map((u) => (u.positives / u.total) * 100));
}

describe('file reports', () => {
  it('flags 65/71 as malicious with high confidence, one TTP per distinct detection name', () => {
    const report = loadFixture<Report>('file_report_detected_65of71.json');
    const observable: Observable = { type: 'md5', value: '7657fcb7d772448a6d8504e4b20168b8' };
    const outcome = found(mapV2Report(observable, report, thresholds));
    const rate = (report.positives / report.total) * 100;
    expect(report.positives).toBe(65);
    expect(outcome.verdict).toBe('malicious');
    // 65/71 = 91.55% > 66
    expect(outcome.confidence).toBe(expectedConfidence(report.positives, report.total));
    expect(outcome.confidence).toBe('high');
    expect(outcome.extracted.infectionRate).toBeCloseTo(rate, 10);
    expect(outcome.extracted).toMatchObject({ positives: 65, total: 71, scanDate: '2018-12-27T20:21:01Z', sha256: report.sha256, md5: report.md5 });

    const names = new Set(Object.values(report.scans).filter((scan) => scan.detected && scan.result).map((scan) => scan.result));
    expect(outcome.entities).toHaveLength(names.size);
    expect(outcome.entities.every((entity) => entity.type === 'ttp')).toBe(true);
    expect(new Set(outcome.entities.map((entity) => entity.name))).toEqual(names);
    const engineCount = outcome.entities.reduce((sum, entity) => sum + (entity.engines as string[]).length, 0);
    expect(engineCount).toBe(Object.values(report.scans).filter((scan) => scan.detected && scan.result).length);
    const zeus = outcome.entities.find((entity) => entity.name === report.scans.Bkav!.result);
    expect(zeus?.engines).toContain('Bkav');
  });

  it('is benign with no confidence and no TTPs when 0/55 detected', () => {
    const report = loadFixture<Report>('file_report_clean_2014.json');
    const outcome = found(mapV2Report({ type: 'sha256', value: report.sha256 as string }, report, thresholds));
    expect(outcome).toMatchObject({ verdict: 'benign', confidence: null, entities: [] });
    expect(outcome.extracted).toMatchObject({ positives: 0, total: 55, infectionRate: 0 });
  });

  it('gives each report of a batch its own verdict (7/56, 8/57, 5/57 are low confidence by default)', () => {
    const batch = loadFixture<Report[]>('file_report_batch_3_resources.json');
    // Rates 12.5%, 14.04%, 8.77%: all below 33 (low); with a low maximum of 10, the first two are medium.
    const expected = [
      { positives: 7, total: 56, confidence: 'low', strict: 'medium' },
      { positives: 8, total: 57, confidence: 'low', strict: 'medium' },
      { positives: 5, total: 57, confidence: 'low', strict: 'low' },
    ];
    expect(batch.map((report) => ({ positives: report.positives, total: report.total }))).toEqual(expected.map(({ positives, total }) => ({ positives, total })));
    batch.forEach((report, index) => {
      const outcome = found(mapV2Report({ type: 'sha256', value: report.resource as string }, report, thresholds));
      expect(outcome).toMatchObject({ verdict: 'malicious', confidence: expected[index]!.confidence });
      expect(outcome.confidence).toBe(expectedConfidence(report.positives, report.total));
      const strict = found(mapV2Report({ type: 'sha256', value: report.resource as string }, report, { lowConfidenceInfectionRateMax: 10, highConfidenceInfectionRateMin: 66 }));
      expect(strict.confidence).toBe(expected[index]!.strict);
      expect(strict.confidence).toBe(expectedConfidence(report.positives, report.total, 10, 66));
    });
  });

  it('maps response_code 0 to not_found and -2 to pending', () => {
    const missing = loadFixture('file_report_not_found_rc0.json');
    expect(mapV2Report({ type: 'sha256', value: missing.resource as string }, missing, thresholds)).toMatchObject({ kind: 'not_found', reasons: [{ rule: 'response_code=0' }] });
    const queued = loadFixture('file_report_queued_rc-2_written_by_team.json');
    expect(mapV2Report({ type: 'sha256', value: queued.resource as string }, queued, thresholds)).toMatchObject({ kind: 'pending', reasons: [{ rule: 'response_code=-2' }] });
  });

  it('lists distinct detection names with their engines, most engines first', () => {
    expect(
      detectionNames({
        A: { detected: true, result: 'Trojan.X' },
        B: { detected: true, result: 'Trojan.X' },
        C: { detected: true, result: 'Adware.Y' },
        D: { detected: false, result: null },
        E: 'garbage',
      }),
    ).toEqual([
      { name: 'Trojan.X', engines: ['A', 'B'] },
      { name: 'Adware.Y', engines: ['C'] },
    ]);
  });
});

describe('URL reports', () => {
  it.each(['url_report_clean_microsoft.json', 'url_report_google.com_clean.json'])('maps %s to a benign "Indicator of uri" entity', (name) => {
    const report = loadFixture<Report>(name);
    const observable: Observable = { type: 'url', value: report.url as string };
    const outcome = found(mapV2Report(observable, report, thresholds));
    expect(outcome).toMatchObject({ verdict: 'benign', confidence: null });
    expect(outcome.entities).toEqual([
      expect.objectContaining({
        type: 'indicator',
        name: `Indicator of uri: ${report.url as string}`,
        confidence: null,
        fields: expect.objectContaining({
          positives: report.positives,
          total: report.total,
          permalink: report.permalink,
          scanDate: toIsoDate(report.scan_date as string),
          infectionRate: 0,
        }),
      }),
    ]);
  });

  it('rates a detected URL report from its positives/total', () => {
    const report = { ...loadFixture<Report>('url_report_clean_microsoft.json'), positives: 44, total: 66 };
    const outcome = found(mapV2Report({ type: 'url', value: 'http://www.microsoft.com/' }, report, thresholds));
    // 44/66 = 66.67% > 66
    expect(outcome).toMatchObject({ verdict: 'malicious', confidence: 'high' });
    expect(outcome.entities[0]).toMatchObject({ confidence: 'high', fields: { positives: 44, total: 66 } });
  });

  it('treats "successfully queued" (response_code 1 without a scan) as pending, and 0 as not_found', () => {
    const queued = loadFixture('url_report_scan1_queued_rc1.json');
    expect(mapV2Report({ type: 'url', value: 'http://www.unscanned.com/' }, queued, thresholds).kind).toBe('pending');
    const missing = loadFixture('url_report_not_found_rc0.json');
    expect(mapV2Report({ type: 'url', value: 'http://www.unscanned.com/' }, missing, thresholds).kind).toBe('not_found');
  });
});

describe('domain reports', () => {
  // Both worst detected URLs are 1/39 = 2.56%: below 33, low confidence.
  it.each([
    ['domain_report_virustotal.com_2014.json', 'virustotal.com', 'malicious', 'low'],
    ['domain_report_benign_python.org.json', 'python.org', 'malicious', 'low'],
  ])('rates %s by its worst detected URL and names the indicator after the domain', (name, domain, verdict, confidence) => {
    const report = loadFixture<HostReport>(name);
    const outcome = found(mapV2Report({ type: 'domain', value: domain }, report, thresholds));
    const rate = worstRate(report);
    expect(rate).toBeCloseTo((1 / 39) * 100, 10);
    expect(outcome.extracted.infectionRate).toBeCloseTo(rate, 10);
    expect(outcome).toMatchObject({ verdict, confidence });
    const [entity] = outcome.entities;
    expect(entity).toMatchObject({
      type: 'indicator',
      name: `Indicator of domain: ${domain}`,
      fields: {
        categories: report.categories,
        resolutionsCount: (report.resolutions as unknown[]).length,
        detectedUrlsCount: report.detected_urls?.length ?? 0,
        detectedCommunicatingSamplesCount: (report.detected_communicating_samples as unknown[] | undefined)?.length ?? 0,
      },
    });
    expect((entity!.fields as Record<string, unknown>).permalink).toBe(`https://www.virustotal.com/gui/domain/${domain}`);
    expect(outcome.extracted.vendorCategories).toMatchObject({ BitDefender: report['BitDefender category'] });
  });

  it('does not let detected communicating samples raise the rate (python.org: 100 samples, worst URL 1/39)', () => {
    const report = loadFixture<HostReport>('domain_report_benign_python.org.json');
    expect((report.detected_communicating_samples as unknown[]).length).toBeGreaterThan(0);
    const outcome = found(mapV2Report({ type: 'domain', value: 'python.org' }, report, thresholds));
    expect(outcome.extracted.infectionRate).toBeCloseTo((1 / 39) * 100, 10);
    expect(outcome.confidence).toBe('low');
    expect(outcome.reasons.map((reason) => reason.rule)).toContain('detected_samples_not_scored');

    const withoutUrls = { ...report, detected_urls: [] };
    const benign = found(mapV2Report({ type: 'domain', value: 'python.org' }, withoutUrls, thresholds));
    expect(benign).toMatchObject({ verdict: 'benign', confidence: null });
    expect(benign.extracted.detectedCommunicatingSamplesCount).toBe(100);
  });

  it('maps "Domain not found" to not_found', () => {
    expect(mapV2Report({ type: 'domain', value: 'a_domain_which_does_not_exist.co.jp' }, loadFixture('domain_report_not_found_rc0.json'), thresholds)).toMatchObject({
      kind: 'not_found',
      reasons: [{ message: 'Domain not found' }],
    });
  });
});

describe('IP address reports', () => {
  // Worst detected URLs: 9/60 = 15% (low), 9/66 = 13.64% (low), none (benign, no confidence).
  it.each([
    ['ip_address_report_8.8.8.8_2014.json', '8.8.8.8', 15169, 15, 'malicious', 'low'],
    ['ip_address_report_1.1.1.1_2019.json', '1.1.1.1', 13335, (9 / 66) * 100, 'malicious', 'low'],
    ['ip_address_report_benign_python.org_rackspace.json', '104.130.43.121', 27357, 0, 'benign', null],
  ])('rates %s by its worst detected URL, asn always a number', (name, ip, asn, expectedRate, verdict, confidence) => {
    const report = loadFixture<HostReport>(name);
    const outcome = found(mapV2Report({ type: 'ipv4', value: ip }, report, thresholds));
    const rate = worstRate(report);
    expect(rate).toBeCloseTo(expectedRate, 10);
    expect(outcome.extracted.infectionRate).toBeCloseTo(rate, 10);
    expect(outcome).toMatchObject({ verdict, confidence });
    expect(outcome.extracted).toMatchObject({ asn, asOwner: report.as_owner, country: report.country });
    expect(outcome.entities[0]).toMatchObject({ type: 'indicator', name: `Indicator of ipv4: ${ip}`, fields: { resolutionsCount: (report.resolutions as unknown[]).length } });
  });

  it('rates 8.8.8.8 at 9/60 = 15%: low confidence (contacted by malware, hosts a few bad URLs)', () => {
    const outcome = found(mapV2Report({ type: 'ipv4', value: '8.8.8.8' }, loadFixture('ip_address_report_8.8.8.8_2014.json'), thresholds));
    expect(outcome.extracted.infectionRate).toBe(15);
    expect(outcome.extracted.worstDetectedUrl).toMatchObject({ positives: 9, total: 60 });
    expect(outcome).toMatchObject({ verdict: 'malicious', confidence: 'low' });
  });
});

describe('bad responses', () => {
  it('rejects bodies that are not report objects', () => {
    expectBadResponse(() => mapV2Report({ type: 'md5', value: 'a' }, 'garbage', thresholds));
    expectBadResponse(() => mapV2Report({ type: 'md5', value: 'a' }, { verbose_msg: 'no code' }, thresholds));
    expectBadResponse(() => mapV2Report({ type: 'md5', value: 'a' }, { response_code: 1, positives: 'many', total: 3 }, thresholds));
    expectBadResponse(() => mapV2Report({ type: 'md5', value: 'a' }, { response_code: 7 }, thresholds));
  });

  it('reports response_code -1 as a bad request', () => {
    try {
      mapV2Report({ type: 'md5', value: 'zz' }, { response_code: -1, verbose_msg: 'Invalid resource' }, thresholds);
      throw new Error('expected a throw');
    } catch (error) {
      expect(isUpstreamError(error) && error.kind).toBe('bad_request');
    }
  });
});

describe('batch answers', () => {
  it('match inputs by resource, case-insensitively for hashes, whatever the order', () => {
    const batch = loadFixture<Report[]>('file_report_batch_3_resources.json');
    const asked = [batch[2]!.resource as string, (batch[0]!.resource as string).toUpperCase(), 'ffff'];
    const split = splitBatchAnswer(asked, batch, true);
    expect(split[0]).toBe(batch[2]);
    expect(split[1]).toBe(batch[0]);
    expect(split[2]).toBeUndefined();
  });

  it('accept the single object VirusTotal returns for one resource', () => {
    const report = loadFixture('file_report_clean_2014.json');
    expect(splitBatchAnswer([report.resource as string], report, true)).toEqual([report]);
  });

  it('match URLs by the resource they echo', () => {
    const a = loadFixture('url_report_clean_microsoft.json');
    const b = loadFixture('url_report_not_found_rc0.json');
    expect(splitBatchAnswer(['http://www.unscanned.com', 'http://www.microsoft.com'], [a, b], false)).toEqual([b, a]);
  });
});

describe('helpers', () => {
  it('converts v2 dates to ISO 8601', () => {
    expect(toIsoDate('2018-12-27 20:21:01')).toBe('2018-12-27T20:21:01Z');
    expect(toIsoDate(null)).toBeNull();
  });

  it('picks the worst detected URL, skipping malformed entries', () => {
    expect(worstDetectedUrl([{ url: 'a', positives: 1, total: 10 }, { url: 'b', positives: 2, total: 10 }, { url: 'c' }, { url: 'd', positives: 5, total: 0 }])?.url).toBe('b');
    expect(worstDetectedUrl(undefined)).toBeUndefined();
  });
});

describe('host verdict options (hostVerdict, hostMinUrlInfectionRate) on real popular infrastructure', () => {
  // One odd detected URL each: 8.8.8.8 (worst 9/60), 1.1.1.1 (9/66), python.org (1/39), github.com (6/66).
  const hosts = [
    ['ip_address_report_8.8.8.8_2014.json', { type: 'ipv4', value: '8.8.8.8' }],
    ['ip_address_report_1.1.1.1_2019.json', { type: 'ipv4', value: '1.1.1.1' }],
    ['domain_report_benign_python.org.json', { type: 'domain', value: 'python.org' }],
    ['domain_report_github.com_2019.json', { type: 'domain', value: 'github.com' }],
  ] as const;

  it.each(hosts)('%s: the default worst-URL rule says malicious, low confidence (the documented trade-off)', (name, observable) => {
    const report = loadFixture(name) as HostReport;
    const outcome = found(mapV2Report(observable, report, thresholds));
    expect(outcome).toMatchObject({ verdict: 'malicious', confidence: 'low' });
    expect(outcome.extracted.infectionRate).toBeCloseTo(worstRate(report), 10);
  });

  it.each(hosts)('%s: hostMinUrlInfectionRate 20 ignores its low-rate URLs: benign, and says why', (name, observable) => {
    const report = loadFixture(name) as HostReport;
    const outcome = found(mapV2Report(observable, report, { ...thresholds, hostMinUrlInfectionRate: 20 }));
    expect(outcome).toMatchObject({ verdict: 'benign', confidence: null });
    expect(outcome.reasons.slice(0, 2)).toMatchObject([{ rule: 'positives=0' }, { rule: 'host_urls_below_minimum', values: { hostMinUrlInfectionRate: 20 } }]);
    expect(outcome.reasons[1]!.values!.worstUrlInfectionRate).toBeCloseTo(worstRate(report), 10);
    // The fields still show the worst URL VirusTotal saw.
    expect((outcome.extracted.worstDetectedUrl as { positives: number }).positives).toBeGreaterThan(0);
  });

  it('hostMinUrlInfectionRate still counts URLs at or above it, with the usual confidence', () => {
    const report = { response_code: 1, detected_urls: [{ url: 'http://h.example/a', positives: 5, total: 70, scan_date: '2019-01-01 00:00:00' }, { url: 'http://h.example/b', positives: 30, total: 60, scan_date: '2019-01-01 00:00:00' }] };
    const outcome = found(mapV2Report({ type: 'domain', value: 'h.example' }, report, { ...thresholds, hostMinUrlInfectionRate: 20 }));
    expect(outcome).toMatchObject({ verdict: 'malicious', confidence: 'medium', extracted: { infectionRate: 50 } });
    expect(found(mapV2Report({ type: 'domain', value: 'h.example' }, report, { ...thresholds, hostMinUrlInfectionRate: 50 })).verdict).toBe('malicious');
    expect(found(mapV2Report({ type: 'domain', value: 'h.example' }, report, { ...thresholds, hostMinUrlInfectionRate: 51 })).verdict).toBe('benign');
  });

  it.each(hosts)('%s: hostVerdict unrated gives no verdict but keeps the fields', (name, observable) => {
    const outcome = found(mapV2Report(observable, loadFixture(name), { ...thresholds, hostVerdict: 'unrated' }));
    expect(outcome).toMatchObject({ verdict: 'unknown', confidence: null });
    expect(outcome.reasons[0]!.rule).toBe('host_not_rated');
    expect(outcome.entities[0]).toMatchObject({ type: 'indicator', verdict: 'unknown' });
    expect(outcome.extracted.detectedUrlsCount).toBeGreaterThan(0);
  });
});
