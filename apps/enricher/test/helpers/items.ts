import type { ObservableSummary, ResultRecord } from '@x/core';
import type { EnrichedItem } from '../../src/output/enriched-item.js';

/** A result record with sensible defaults; override what a test cares about. */
export function record(overrides: Partial<ResultRecord> & Pick<ResultRecord, 'observable'>): ResultRecord {
  return {
    input: overrides.observable?.value ?? '',
    provider: { name: 'vt3', plugin: 'virustotal-v3', version: '0.1.0' },
    status: 'ok',
    verdict: 'benign',
    confidence: 'medium',
    reasons: [],
    extracted: {},
    entities: [],
    error: null,
    cache: { hit: false, storedAt: null, ageSeconds: null },
    fetchedAt: '2026-11-23T10:00:00.000Z',
    ...overrides,
  };
}

/** An item whose summary is computed the way core does: worst verdict, and who said so. */
export function item(records: ResultRecord[]): EnrichedItem {
  const first = records[0]!;
  const order = ['unknown', 'benign', 'suspicious', 'malicious'] as const;
  const worst = records.reduce((acc, r) => (order.indexOf(r.verdict) > order.indexOf(acc) ? r.verdict : acc), 'unknown' as ResultRecord['verdict']);
  const summary: ObservableSummary = {
    observable: first.observable,
    input: first.input,
    verdict: worst,
    decidedBy: worst === 'unknown' ? [] : records.filter((r) => r.verdict === worst).map((r) => r.provider.name),
    providers: Object.fromEntries(records.map((r) => [r.provider.name, { status: r.status, verdict: r.verdict, confidence: r.confidence }])),
  };
  return { records, summary };
}

export const vt2 = {
  name: 'vt2',
  plugin: 'virustotal-v2',
  version: '0.1.0',
  lifecycle: { status: 'end-of-life' as const, endOfLife: '2024-06-30', replacedBy: '@x/provider-virustotal-v3', message: 'VirusTotal API v2 is retired.' },
};

/** One input per verdict and status, as a demo run would produce. */
export function sampleItems(): EnrichedItem[] {
  const sha = { type: 'sha256' as const, value: 'a'.repeat(64) };
  const domain = { type: 'domain' as const, value: 'suspicious.example' };
  const ip = { type: 'ipv4' as const, value: '192.0.2.1' };
  const url = { type: 'url' as const, value: "http://bad.example/it's,\"quoted\"" };
  return [
    item([
      record({
        observable: sha,
        verdict: 'malicious',
        confidence: 'high',
        reasons: [{ rule: 'malicious_count>=5', message: '62 of 70 engines flagged it malicious' }],
        entities: [
          { type: 'ttp', name: 'emotet' },
          { type: 'ttp', name: 'Command and Scripting Interpreter', mitreId: 'T1059' },
        ],
      }),
      record({ observable: sha, provider: vt2, verdict: 'malicious', confidence: 'high', cache: { hit: true, storedAt: '2026-11-23T09:00:00.000Z', ageSeconds: 3600 } }),
    ]),
    item([
      record({ observable: domain, input: 'suspicious[.]example', verdict: 'suspicious', confidence: 'low', reasons: [{ rule: 'suspicious_count>=1', message: '2 engines: suspicious' }] }),
      record({ observable: domain, input: 'suspicious[.]example', provider: vt2, status: 'not_found', verdict: 'unknown', confidence: null }),
    ]),
    item([
      record({ observable: ip }),
      record({
        observable: ip,
        provider: vt2,
        status: 'error',
        verdict: 'unknown',
        confidence: null,
        fetchedAt: null,
        error: { code: 'X_UPSTREAM_QUOTA', message: 'quota exceeded, try later', retryable: true },
      }),
    ]),
    item([record({ observable: url, verdict: 'malicious', confidence: 'medium' }), record({ observable: url, provider: vt2, status: 'pending', verdict: 'unknown', confidence: null })]),
  ];
}

/** What the engine yields for an input that is not an observable. */
export function invalidItem(input = 'not an observable'): EnrichedItem {
  const error = { code: 'X_OBSERVABLE_INVALID', message: `"${input}" is not an observable x-enrich understands.`, retryable: false };
  const failed = (provider: ResultRecord['provider']) =>
    record({ observable: null, input, provider, status: 'error', verdict: 'unknown', confidence: null, fetchedAt: null, error });
  return item([failed({ name: 'vt3', plugin: 'virustotal-v3', version: '0.1.0' }), failed(vt2)]);
}
