import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { createEnricher, zProviderInstanceConfig, zProviderManifest, type ResultRecord } from '@x/core';
import vt3, { zVirusTotalV3Options } from '@x/provider-virustotal-v3';
import { outcomeObservables, startSimulator, type Fixture } from '@x/virustotal-simulator';
import { describe, expect, it } from 'vitest';
import { sampleItems } from '../../test/helpers/items.js';
import { formatJsonl, recordJson } from './jsonl.js';

/** What the formatter wrote before its template: one JSON.stringify per record. */
const stringified = (records: readonly unknown[]): string => records.map((record) => `${JSON.stringify(record)}\n`).join('');

const observable = { type: 'ipv4', value: '8.8.8.8' } as const;
const provider = { name: 'vt3', plugin: 'virustotal-v3', version: '0.1.0' };

/** A record as the engine builds one for a found outcome: the indicator's fields are the record's extracted object. */
function found(extracted: Record<string, unknown> = { malicious_count: 2, country: 'RU', tags: [] }): Record<string, unknown> {
  return {
    observable,
    input: '8[.]8.8.8',
    provider,
    status: 'ok',
    verdict: 'malicious',
    confidence: null,
    reasons: [{ rule: 'malicious_count>=1', message: 'matched "quoted" \u2028 text', values: { malicious_count: 2 } }],
    extracted,
    entities: [
      { type: 'indicator', name: 'Indicator of ipv4: 8.8.8.8', observable: { ...observable }, verdict: 'malicious', confidence: null, fields: extracted },
      { type: 'ttp', name: 'Trojan', category: 'threat_name', count: 3, observable: { ...observable } },
    ],
    error: null,
    cache: { hit: false, storedAt: null, ageSeconds: null },
    fetchedAt: '2026-12-01T04:30:14.374Z',
  };
}

describe('recordJson', () => {
  it('writes exactly what JSON.stringify writes, for records of the engine shape and odd ones', () => {
    const shared = { country: 'RU' };
    const records: unknown[] = [
      found(),
      found({}),
      { ...found(), extracted: null, entities: [{ ...(found().entities as object[])[0], fields: null }] },
      { ...found(), entities: [] },
      { ...found(), entities: [{ ...(found().entities as object[])[0], fields: { ...shared } }] },
      // The indicator's keys in another order, or one more: JSON.stringify's order must hold.
      { ...found(), entities: [{ fields: shared, type: 'indicator', name: 'n', observable, verdict: 'unknown', confidence: null }] },
      { ...found(shared), entities: [{ type: 'indicator', name: 'n', observable, verdict: 'unknown', confidence: null, fields: shared, extra: 1 }] },
      { ...found(shared), entities: [{ type: 'indicator', name: 'n', observable, verdict: undefined, confidence: Number.NaN, fields: shared }] },
      { ...found(shared), entities: [{ type: 'indicator', name: 'n', observable: undefined, verdict: 'unknown', confidence: -0, fields: shared }] },
      { ...found(shared), entities: [{ type: 'indicator', name: 'n', observable: { toJSON: (key: string) => `at ${key}` }, verdict: 'unknown', confidence: 1e21, fields: shared }] },
      { ...found(shared), entities: [undefined, () => 1, null, 7, 'x', [1, undefined]] },
      { ...found(shared), entities: [{ toJSON: (key: string) => ({ key }) }] },
      { ...found(shared), entities: Object.assign([], { toJSON: () => 'entities' }) },
      // Fields JSON leaves out, or writes as null, or from a toJSON that sees its key.
      { ...found(), fetchedAt: undefined },
      { ...found(), confidence: Number.POSITIVE_INFINITY },
      { ...found(), input: 'quote " backslash \\ \u0001 \ud800 lone surrogate' },
      { ...found(), extracted: { toJSON: (key: string) => ({ key }) } },
      { ...found(), extracted: { when: new Date(Date.UTC(2025, 1, 21)), nothing: undefined, nested: { a: [1, null, 'x'] } } },
      { ...found(), reasons: undefined },
      { ...found(), reasons: () => 'no JSON' },
      { ...found(), observable: null, status: 'error', error: { code: 'X_OBSERVABLE_INVALID', message: 'bad "input"\n', retryable: false } },
      { ...found(), provider: { ...provider, lifecycle: { status: 'end-of-life', endOfLife: '2024-06-30' } } },
      { ...found(), provider: undefined },
      { ...found(), cache: { hit: true, storedAt: '2026-12-01T04:30:14.374Z', ageSeconds: 12.5 } },
      { ...found(), cache: { hit: true, storedAt: undefined, ageSeconds: Number.NaN } },
      { ...found(), cache: { ageSeconds: 1, hit: false, storedAt: null } },
      { ...found(), cache: null },
      { ...found(), cache: [true] },
      // Not the engine's keys: the generic path.
      { ...found(), raw: { big: 'x'.repeat(50) } },
      { input: '', observable: null },
      {},
      Object.assign(found(), { toJSON: () => 'whole' }),
    ];
    for (const record of records) expect(recordJson(record as ResultRecord)).toBe(JSON.stringify(record));
  });

  it("serialises the extracted object once when the indicator carries it as its fields", () => {
    let reads = 0;
    // A getter counts how often the extracted object's content is serialised.
    const extracted = {
      get country() {
        reads += 1;
        return 'RU';
      },
    };
    const record = found(extracted);
    expect(recordJson(record as unknown as ResultRecord)).toBe(JSON.stringify(record));
    // 2 from the JSON.stringify above, 1 from recordJson.
    expect(reads).toBe(3);
  });

  it("writes the indicator's observable with the record's text only when JSON.stringify would write the same", () => {
    const indicator = (observableOf: unknown): Record<string, unknown> => {
      const record = found();
      (record.entities as Array<Record<string, unknown>>)[0]!.observable = observableOf;
      return record;
    };
    const records = [
      indicator(observable),
      indicator({ ...observable }),
      indicator({ type: 'ipv4', value: '8.8.4.4' }),
      indicator({ type: 'ipv6', value: '8.8.8.8' }),
      indicator({ value: '8.8.8.8', type: 'ipv4' }),
      indicator({ ...observable, extra: 1 }),
      indicator({ type: 'ipv4' }),
      indicator(Object.assign([], observable)),
      indicator({ ...observable, toJSON: () => 'mine' }),
      indicator({ type: 'ipv4', value: 8 }),
      indicator(null),
      { ...indicator({ ...observable }), observable: Object.assign([], observable) },
      { ...indicator({ ...observable }), observable: { ...observable, toJSON: () => 'record' } },
      { ...indicator({ ...observable }), observable: { value: '8.8.8.8', type: 'ipv4' } },
      { ...indicator({ ...observable }), observable: { ...observable, extra: undefined } },
    ];
    for (const record of records) expect(recordJson(record as unknown as ResultRecord)).toBe(JSON.stringify(record));
  });

  it('writes every status, verdict, confidence and entity type, and a fetchedAt repeated or changed between records, as JSON.stringify', () => {
    const words = ['ok', 'not_found', 'pending', 'error', 'unsupported', 'skipped', 'malicious', 'suspicious', 'benign', 'unknown', 'low', 'medium', 'high', 'indicator', 'ttp', 'related', 'OK', 'ok ', '', null, 0, undefined];
    const times = ['2026-12-01T04:30:14.374Z', '2026-12-01T04:30:14.374Z', ['2026-12-01T04:30:14', '.375Z'].join(''), undefined, '2026-12-01T04:30:14.375Z', null, 'a "quoted" \u0001 time', Number.NaN];
    let n = 0;
    for (const word of words) {
      for (const key of ['status', 'verdict', 'confidence'] as const) {
        const record = { ...found(), [key]: word, fetchedAt: times[n++ % times.length] };
        expect(recordJson(record as unknown as ResultRecord)).toBe(JSON.stringify(record));
      }
      for (const key of ['type', 'verdict', 'confidence'] as const) {
        const record = found();
        (record.entities as Array<Record<string, unknown>>)[0]![key] = word;
        record.fetchedAt = times[n++ % times.length];
        expect(recordJson(record as unknown as ResultRecord)).toBe(JSON.stringify(record));
      }
    }
  });

  it('fails as JSON.stringify fails on what it cannot write', () => {
    const cyclic = found();
    (cyclic.extracted as Record<string, unknown>).self = cyclic.extracted;
    expect(() => recordJson(cyclic as unknown as ResultRecord)).toThrow(TypeError);
    expect(() => recordJson({ ...found(), confidence: 1n } as unknown as ResultRecord)).toThrow(TypeError);
  });

  it('matches JSON.stringify on randomly built records (a property test over values, shapes and key orders)', () => {
    // fast-check draws the choices below (and prints the seed of a failing run).
    let random = (): number => 0;
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
    const primitives = [null, undefined, true, false, 0, -0, 1.5, -2e-7, 1e21, Number.NaN, Number.POSITIVE_INFINITY, '', 'ok', 'malicious', 'a"b\\c\n\u2028', '\ud83d\ude00', '\udc00'];
    const value = (depth: number): unknown => {
      const roll = random();
      if (depth > 2 || roll < 0.55) return pick(primitives);
      if (roll < 0.7) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      if (roll < 0.75) return new Date(Math.floor(random() * 2e12));
      if (roll < 0.77) return () => 'function';
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 4); i > 0; i--) object[pick(['a', 'b', 'c', '1', 'x y'])] = value(depth + 1);
      return object;
    };
    fc.assert(
      fc.property(fc.gen(), (g) => {
        random = () => g(fc.double, { min: 0, max: 1, maxExcluded: true, noNaN: true });
        const base = found(random() < 0.2 ? (value(0) as Record<string, unknown>) : { malicious_count: value(1), country: value(1), tags: [value(2)] });
        // Replace a few fields, sometimes drop or add one, sometimes reorder the keys.
        for (let changes = Math.floor(random() * 3); changes > 0; changes--) base[pick(Object.keys(base))] = value(0);
        const entities = base.entities;
        if (Array.isArray(entities) && random() < 0.5) {
          const indicator = entities[0] as Record<string, unknown> | undefined;
          if (indicator !== null && typeof indicator === 'object') indicator[pick(['type', 'name', 'observable', 'verdict', 'confidence'])] = value(1);
        }
        if (random() < 0.05) delete base[pick(Object.keys(base))];
        if (random() < 0.05) base.extra = value(0);
        const record = random() < 0.05 ? Object.fromEntries(Object.entries(base).reverse()) : base;
        expect(recordJson(record as unknown as ResultRecord)).toBe(JSON.stringify(record));
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('formatJsonl', () => {
  it('writes the sample items as one JSON.stringify per line did', () => {
    for (const item of sampleItems()) expect(formatJsonl(item.records)).toBe(stringified(item.records));
  });

  it("writes the engine's records of the real VirusTotal v3 captures byte for byte as JSON.stringify did", { timeout: 30_000 }, async () => {
    // Every captured object (packages/provider-virustotal-v3/test/fixtures) served by the
    // simulator, through the engine and the vt3 provider, plus generated objects of every outcome.
    const dir = new URL('../../../../packages/provider-virustotal-v3/test/fixtures/', import.meta.url);
    const fixtures: Fixture[] = [];
    const inputs: string[] = [];
    for (const name of readdirSync(dir).filter((file) => file.endsWith('.json') && !file.startsWith('error_') && !file.startsWith('collection_'))) {
      const body = JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as { data?: { id: string; type: string; attributes: Record<string, unknown> } };
      const object = (body.data ?? body) as { id: string; type: string; attributes: Record<string, unknown> };
      const value = object.type === 'url' ? object.attributes.url : object.id;
      if (typeof value !== 'string') continue;
      fixtures.push({ api: 'v3', value, body });
      inputs.push(value);
    }
    expect(inputs.length).toBeGreaterThan(20);
    for (const type of ['ipv4', 'domain', 'url', 'sha256'] as const) inputs.push(...Object.values(outcomeObservables(type)));
    const simulator = await startSimulator({ port: 0, apiKeys: ['k'], fixtures });
    try {
      const manifest = zProviderManifest.parse(vt3.manifest);
      const raw = { apiKey: 'k', baseUrl: simulator.v3Url };
      const config = zProviderInstanceConfig.parse({ use: manifest.packageName, rateLimit: false, options: raw });
      const enricher = createEnricher({ providers: [{ name: 'vt3', plugin: vt3, manifest, options: zVirusTotalV3Options.parse(raw), config }], cacheStore: false, concurrency: 8 });
      try {
        const { records } = await enricher.enrich(inputs);
        expect(records.filter((record) => record.status === 'ok').length).toBeGreaterThan(inputs.length / 2);
        // The indicator's fields are the record's extracted object: what the template writes once.
        expect(records.some((record) => record.entities.some((entity) => entity.fields === record.extracted))).toBe(true);
        expect(formatJsonl(records)).toBe(stringified(records));
      } finally {
        await enricher.close();
      }
    } finally {
      await simulator.close();
    }
  });
});
