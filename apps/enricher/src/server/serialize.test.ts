import { describe, expect, it } from 'vitest';
import { createAnswerSerializer } from './serialize.js';

const observable = { type: 'ipv4', value: '8.8.8.8' };
const provider = { name: 'vt3', plugin: 'virustotal-v3', version: '0.1.0' };
const outcome = {
  reasons: [{ rule: 'malicious_count>=1', message: 'matched "quoted" \u2028 text', values: { malicious_count: 2 } }],
  extracted: { country: 'RU', tags: [], last: new Date(Date.UTC(2025, 1, 21)), nothing: undefined, nested: { a: [1, null, 'x'] } },
  entities: [{ type: 'indicator', name: 'Indicator of ipv4: 8.8.8.8', fields: {} }],
};
const hit = (ageSeconds: number, input = '8.8.8.8') => ({
  observable,
  input,
  provider,
  status: 'ok',
  verdict: 'malicious',
  confidence: null,
  ...outcome,
  error: null,
  cache: { hit: true, storedAt: '2026-12-01T04:30:14.374Z', ageSeconds },
  fetchedAt: '2026-12-01T04:30:14.374Z',
});

describe('createAnswerSerializer', () => {
  it('makes exactly what JSON.stringify makes of answers, errors and odd values', () => {
    const serialize = createAnswerSerializer();
    const answers: unknown[] = [
      { records: [hit(0), hit(3, '8[.]8.8.8')], summaries: [{ observable, verdict: 'malicious', providers: 1 }] },
      { records: [], summaries: [] },
      { records: [{ ...hit(1), raw: { big: 'x'.repeat(50) }, optional: undefined, error: { code: 'X_UPSTREAM', message: 'm', retryable: true } }], summaries: [] },
      { records: [{ observable: null, input: '', provider, reasons: [], extracted: {}, entities: [] }], summaries: [], extra: 1 },
      // Records of the engine's shape whose fields are not the usual ones: the template must still match.
      { records: [{ ...hit(2), fetchedAt: undefined }, { ...hit(2), confidence: Number.NaN }, { ...hit(2), confidence: -0 }, { ...hit(2), confidence: 1e21 }], summaries: [] },
      { records: [{ ...hit(2), cache: { hit: true, storedAt: undefined, ageSeconds: Number.POSITIVE_INFINITY } }, { ...hit(2), cache: { ageSeconds: 1, hit: false, storedAt: null } }], summaries: [] },
      { records: [{ ...hit(2), observable: null, status: 'error', error: { code: 'X_OBSERVABLE_INVALID', message: 'bad "input"\n', retryable: false } }], summaries: [] },
      { records: [{ ...hit(2), input: 'quote " backslash \\ \u0001 \ud800 lone surrogate' }], summaries: [] },
      { records: [{ ...hit(2), cache: null, extracted: null, entities: 'not an array', reasons: undefined }], summaries: [] },
      // Summaries of the engine's shape, and of others.
      {
        records: [],
        summaries: [
          { observable, input: '8.8.8.8', verdict: 'malicious', decidedBy: ['vt3', 'v"2'], providers: { vt3: { status: 'ok', verdict: 'malicious', confidence: 0.5 }, 'v"2': { status: 'ok', verdict: 'malicious', confidence: null } } },
          { observable: null, input: 'x', verdict: 'unknown', decidedBy: [], providers: {} },
          { observable, input: 'x', verdict: 'unknown', decidedBy: [1, undefined], providers: { a: { status: 'ok', verdict: 'unknown', confidence: undefined } } },
          { observable, input: 'x', verdict: 'unknown', decidedBy: 'vt3', providers: { a: { verdict: 'unknown', status: 'ok', confidence: null } } },
          { observable, input: undefined, verdict: 'unknown', decidedBy: [], providers: null },
          undefined,
          7,
        ],
      },
      { error: { code: 'X_TIMEOUT', message: 'took longer' } },
      { records: 'not an array' },
      [1, 2],
      'text',
      null,
    ];
    for (const answer of answers) expect(serialize(answer)).toBe(JSON.stringify(answer));
  });

  it('makes the JSON of an object a cache entry shares once, whatever record holds it', () => {
    const serialize = createAnswerSerializer();
    let reads = 0;
    // A getter counts how often the shared object's content is serialised.
    const extracted = {
      get country() {
        reads += 1;
        return 'RU';
      },
    };
    const answer = (age: number) => ({ records: [{ ...hit(age), extracted }, { ...hit(age), extracted }], summaries: [] });
    expect(serialize(answer(0))).toBe(JSON.stringify(answer(0)));
    const after = reads;
    // Per-request fields (the cache age) still change; the shared part is not read again.
    expect(serialize(answer(7))).toContain('"ageSeconds":7');
    expect(reads).toBe(after);
  });

  it("reuses a record's JSON up to its cache only while every field before it is the same value", () => {
    const serialize = createAnswerSerializer();
    const other = { type: 'ipv4', value: '1.1.1.1' };
    // Records that share the outcome objects (the key of the kept JSON) but differ in one field
    // each, one after the other and back: each must be written as it is, not as the one before.
    const variants: Array<Record<string, unknown>> = [
      hit(0),
      hit(1, '8[.]8[.]8[.]8'),
      { ...hit(1), observable: other },
      { ...hit(1), provider: { ...provider } },
      { ...hit(1), status: 'skipped' },
      { ...hit(1), verdict: 'benign' },
      { ...hit(1), confidence: 0.25 },
      { ...hit(1), reasons: [] },
      { ...hit(1), entities: [] },
      { ...hit(1), extracted: { country: 'DE' } },
      { ...hit(1), error: { code: 'X_UPSTREAM', message: 'm', retryable: true } },
      { ...hit(1), fetchedAt: '2026-12-02T00:00:00.000Z', cache: { hit: false, storedAt: null, ageSeconds: 0 } },
      hit(2),
    ];
    for (let round = 0; round < 2; round++) {
      for (const record of variants) {
        const answer = { records: [record, hit(5)], summaries: [] };
        expect(serialize(answer)).toBe(JSON.stringify(answer));
      }
    }
  });

  it('gives the same answer string while every part repeats, and a new one when any part differs', () => {
    const serialize = createAnswerSerializer();
    const summary = (verdict: string) => ({ observable, input: '8.8.8.8', verdict, decidedBy: ['vt3'], providers: { vt3: { status: 'ok', verdict, confidence: null } } });
    const answer = (age: number, verdict = 'malicious', fetchedAt = '2026-12-01T04:30:14.374Z') => ({
      records: [{ ...hit(age), fetchedAt }, { ...hit(age), provider: { ...provider, name: 'vt2' } }],
      summaries: [summary(verdict)],
    });
    const first = serialize(answer(3));
    expect(first).toBe(JSON.stringify(answer(3)));
    // New record and summary objects, the same values: the same string.
    expect(serialize(answer(3))).toBe(first);
    // Each per-request field that can differ between two hits of the same entries, one at a time and back.
    const variants = [answer(4), answer(3), answer(3, 'benign'), answer(3), answer(3, 'malicious', '2026-12-02T00:00:00.000Z'), answer(3)];
    for (const variant of variants) expect(serialize(variant)).toBe(JSON.stringify(variant));
    // Fewer records, the same summary; then no summaries; then records moved into the summaries' place.
    const fewer = { records: [answer(3).records[0]], summaries: [summary('malicious')] };
    expect(serialize(fewer)).toBe(JSON.stringify(fewer));
    const none = { records: answer(3).records, summaries: [] };
    expect(serialize(none)).toBe(JSON.stringify(none));
    const moved = { records: [], summaries: [summary('malicious'), summary('malicious')] };
    expect(serialize(moved)).toBe(JSON.stringify(moved));
    // Keys in another order, or another key: the generic path, still JSON.stringify's bytes.
    const reordered = { summaries: [summary('malicious')], records: answer(3).records };
    expect(serialize(reordered)).toBe(JSON.stringify(reordered));
    const sparse = { records: [hit(1), , hit(2)], summaries: [] }; // eslint-disable-line no-sparse-arrays
    expect(serialize(sparse)).toBe(JSON.stringify(sparse));
  });

  it("reuses a summary's JSON per observable only while each of its values is the same, keys in the same order", () => {
    const serialize = createAnswerSerializer();
    const other = { type: 'domain', value: 'example.com' };
    const summary = (over: Record<string, unknown> = {}, providers: Record<string, unknown> = { vt3: { status: 'ok', verdict: 'malicious', confidence: 0.9 }, vt2: { status: 'not_found', verdict: 'unknown', confidence: null } }) => ({
      observable,
      input: '8.8.8.8',
      verdict: 'malicious',
      decidedBy: ['vt3'],
      providers,
      ...over,
    });
    const check = (summaries: unknown[]) => {
      const answer = { records: [], summaries };
      const text = serialize(answer);
      expect(text).toBe(JSON.stringify(answer));
      return text;
    };
    const first = check([summary(), summary({ observable: other, input: 'example.com' })]);
    // New objects, the same values: the same string (two observables, each kept).
    expect(check([summary(), summary({ observable: other, input: 'example.com' })])).toBe(first);
    const variants: unknown[] = [
      summary({ input: '8[.]8.8.8' }),
      summary({ verdict: 'benign' }),
      summary({ decidedBy: [] }),
      summary({ decidedBy: ['vt3', 'vt2'] }),
      summary({ decidedBy: ['vt2'] }),
      summary({ decidedBy: [, 'vt3'] }), // eslint-disable-line no-sparse-arrays
      summary({ decidedBy: 'vt3' }),
      summary({}, { vt3: { status: 'ok', verdict: 'malicious', confidence: 0.8 }, vt2: { status: 'not_found', verdict: 'unknown', confidence: null } }),
      summary({}, { vt3: { status: 'ok', verdict: 'suspicious', confidence: 0.9 }, vt2: { status: 'not_found', verdict: 'unknown', confidence: null } }),
      summary({}, { vt3: { status: 'error', verdict: 'malicious', confidence: 0.9 }, vt2: { status: 'not_found', verdict: 'unknown', confidence: null } }),
      summary({}, { vt2: { status: 'not_found', verdict: 'unknown', confidence: null }, vt3: { status: 'ok', verdict: 'malicious', confidence: 0.9 } }),
      summary({}, { vt3: { status: 'ok', verdict: 'malicious', confidence: 0.9 } }),
      summary({}, { vt3: { verdict: 'malicious', status: 'ok', confidence: 0.9 }, vt2: { status: 'not_found', verdict: 'unknown', confidence: null } }),
      summary({}, { vt3: { status: 'ok', verdict: 'malicious', confidence: 0.9, extra: 1 }, vt2: { status: 'not_found', verdict: 'unknown', confidence: null } }),
      summary({}, { vt3: { status: 'ok', verdict: 'malicious', confidence: Number.NaN }, vt2: { status: 'not_found', verdict: 'unknown', confidence: null } }),
      summary({}, { vt3: { status: 'ok', verdict: 'malicious', confidence: 0.9 }, vt4: { status: 'not_found', verdict: 'unknown', confidence: null } }),
      { verdict: 'malicious', observable, input: '8.8.8.8', decidedBy: ['vt3'], providers: {} },
      { ...summary(), note: 'x' },
    ];
    // Each variant after the kept one and the kept one again after it: the bytes JSON.stringify makes.
    for (const variant of variants) {
      check([variant]);
      check([summary()]);
      check([variant, variant]);
    }
    // An input that is an object (not the engine's) is written anew every time, even when the same object changed.
    const input = { raw: '8.8.8.8' };
    check([summary({ input })]);
    input.raw = '1.1.1.1';
    check([summary({ input })]);
    // Likewise a decidedBy entry that is an object: the same array entry changed in place is written anew.
    const decider = { name: 'vt3' };
    check([summary({ decidedBy: [decider] })]);
    decider.name = 'vt2';
    check([summary({ decidedBy: [decider] })]);
    expect(check([summary(), summary({ observable: other, input: 'example.com' })])).toBe(first);
  });
});
