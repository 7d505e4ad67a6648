import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnricher, zResultRecord, type ResultRecord } from '@x/core';
import { captureLogger, loadTestProvider } from '@x/core/testing';
import plugin from '../plugin.js';
import { KEYS, MALICIOUS_IP, REFUSED_IP, RESOLVER_IP, SUSPICIOUS_IP, UNKNOWN_IP, startFakeSources, type FakeSources } from '../../test/fake-sources.js';

// Each shipped recipe, as `recipe: <name>` plus the key, against a fake that answers with the
// shapes the source documents: verdicts, extracted fields, not-found and error answers.
let sources: FakeSources;
beforeAll(async () => {
  sources = await startFakeSources();
});
afterAll(async () => {
  await sources?.close();
});

async function lookup(recipe: string, inputs: string[], extra: Record<string, unknown> = {}): Promise<ResultRecord[]> {
  const key = (KEYS as Record<string, string>)[recipe];
  const loaded = loadTestProvider(plugin, {
    name: recipe,
    options: { recipe, ...(key ? { apiKey: key } : {}), baseUrl: sources.url(recipe), ...extra },
    config: { cache: false, rateLimit: false, resilience: { retry: false, circuitBreaker: false } },
  });
  const logger = captureLogger();
  const { records } = await createEnricher({ providers: [loaded], cacheStore: false, logger }).enrich(inputs);
  for (const record of records) zResultRecord.parse(record);
  // No credential reaches a record or a log line.
  const text = JSON.stringify(records) + JSON.stringify(logger.lines);
  if (key) expect(text).not.toContain(key);
  return records;
}

const summary = (record: ResultRecord) => [record.status, record.verdict, record.confidence, record.error?.code ?? null];

describe('recipe abuseipdb', () => {
  it('maps the confidence of abuse to verdicts and extracts the documented fields', async () => {
    const records = await lookup('abuseipdb', [MALICIOUS_IP, SUSPICIOUS_IP, RESOLVER_IP, UNKNOWN_IP, '2001:db8::1']);
    expect(records.map(summary)).toEqual([
      ['ok', 'malicious', 'high', null],
      ['ok', 'suspicious', 'medium', null],
      ['ok', 'benign', 'high', null],
      ['ok', 'benign', 'low', null],
      ['ok', 'benign', 'low', null],
    ]);
    expect(records[0]!.extracted).toMatchObject({ abuseConfidenceScore: 100, totalReports: 42, countryCode: 'NL', isTor: false, lastReportedAt: '2026-11-30T22:01:13.000Z' });
    expect(records[0]!.reasons[0]).toEqual({ rule: 'abuseConfidenceScore>=75', message: 'AbuseIPDB confidence of abuse 100% from 42 reports', values: { abuseConfidenceScore: 100 } });
    expect(records[0]!.entities).toEqual([{ type: 'indicator', name: `Indicator of ipv4: ${MALICIOUS_IP}` }]);
    expect(records[3]!.reasons[0]!.rule).toBe('otherwise');
  });

  it('handles only the types it names: a domain is unsupported, no request sent', async () => {
    const before = sources.counts.abuseipdb ?? 0;
    const [record] = await lookup('abuseipdb', ['example.org']);
    expect(record!.status).toBe('unsupported');
    expect(sources.counts.abuseipdb ?? 0).toBe(before);
  });

  it('a wrong key is X_UPSTREAM_AUTH; a refused address (422) an error record, never a crash', async () => {
    expect((await lookup('abuseipdb', [MALICIOUS_IP], { apiKey: 'wrong-key-0123456789' })).map(summary)).toEqual([['error', 'unknown', null, 'X_UPSTREAM_AUTH']]);
    const [refused] = await lookup('abuseipdb', [REFUSED_IP]);
    expect(refused!.status).toBe('error');
    expect(refused!.error!.code).toBe('X_UPSTREAM_HTTP');
    expect(refused!.error!.message).toContain('422');
  });
});

describe('recipe greynoise', () => {
  it('malicious, RIOT, scanner, and the documented 404 as not_found', async () => {
    const records = await lookup('greynoise', [MALICIOUS_IP, RESOLVER_IP, SUSPICIOUS_IP, UNKNOWN_IP]);
    expect(records.map(summary)).toEqual([
      ['ok', 'malicious', 'high', null],
      ['ok', 'benign', 'high', null],
      ['ok', 'suspicious', 'low', null],
      ['not_found', 'unknown', null, null],
    ]);
    expect(records[1]!.extracted).toMatchObject({ riot: true, actor: 'Google Public DNS', lastSeen: '2026-11-30T00:00:00.000Z' });
    expect(records[1]!.reasons[0]!.message).toBe('A common business service (Google Public DNS) in GreyNoise RIOT');
  });
});

describe('recipe urlhaus', () => {
  it('host and URL lookups by form POST; no_results is not_found; the string counts are read as integers', async () => {
    const records = await lookup('urlhaus', ['evil.example', 'old.example', 'clean.example', 'http://evil.example/bin/1.exe', 'http://clean.example/']);
    expect(records.map(summary)).toEqual([
      ['ok', 'malicious', 'high', null],
      ['ok', 'suspicious', 'medium', null],
      ['not_found', 'unknown', null, null],
      ['ok', 'malicious', 'high', null],
      ['not_found', 'unknown', null, null],
    ]);
    expect(records[0]!.extracted).toMatchObject({ queryStatus: 'ok', urlCount: 2, onlineUrls: 1, firstSeen: '2026-10-01T08:00:00.000Z', spamhausDbl: 'abused_legit_malware' });
    expect(records[3]!.extracted).toMatchObject({ urlStatus: 'online', threat: 'malware_download', tags: ['exe', 'Emotet'] });
    expect(records[2]!.reasons[0]!.values).toEqual({ queryStatus: 'no_results' });
  });
});

describe('recipe threatfox', () => {
  it('search_ioc by JSON POST; no_result (with data as a sentence) is not_found', async () => {
    const records = await lookup('threatfox', ['evil.example', MALICIOUS_IP, 'clean.example', 'd41d8cd98f00b204e9800998ecf8427e']);
    expect(records.map(summary)).toEqual([
      ['ok', 'malicious', 'high', null],
      ['ok', 'malicious', 'high', null],
      ['not_found', 'unknown', null, null],
      ['not_found', 'unknown', null, null],
    ]);
    expect(records[0]!.extracted).toMatchObject({ malware: 'Cobalt Strike', threatType: 'botnet_cc', confidenceLevel: 100, firstSeen: '2026-11-01T12:00:00.000Z', lastSeen: null });
  });
});

describe('recipe otx', () => {
  it('one section per type; allow-listed first, then pulse counts', async () => {
    const records = await lookup('otx', [RESOLVER_IP, MALICIOUS_IP, SUSPICIOUS_IP, UNKNOWN_IP, 'evil.example', 'd41d8cd98f00b204e9800998ecf8427e']);
    expect(records.map(summary)).toEqual([
      ['ok', 'benign', 'medium', null],
      ['ok', 'malicious', 'medium', null],
      ['ok', 'suspicious', 'low', null],
      ['ok', 'unknown', null, null],
      ['ok', 'malicious', 'medium', null],
      ['ok', 'unknown', null, null],
    ]);
    expect(records[1]!.extracted).toMatchObject({ pulseCount: 12, pulses: ['Pulse 0', 'Pulse 1', 'Pulse 2', 'Pulse 3', 'Pulse 4'], malwareFamilies: ['Emotet'] });
  });
});

describe('recipe shodan-internetdb', () => {
  it('needs no key; tags and vulnerabilities decide; 404 is not_found', async () => {
    const records = await lookup('shodan-internetdb', [MALICIOUS_IP, SUSPICIOUS_IP, RESOLVER_IP, UNKNOWN_IP]);
    expect(records.map(summary)).toEqual([
      ['ok', 'malicious', 'medium', null],
      ['ok', 'suspicious', 'low', null],
      ['ok', 'unknown', null, null],
      ['not_found', 'unknown', null, null],
    ]);
    expect(records[1]!.extracted).toEqual({ ports: [22, 80], hostnames: ['old.example'], cpes: ['cpe:/a:openbsd:openssh:7.4'], tags: [], vulns: ['CVE-2014-0160', 'CVE-2018-15473'] });
  });
});
