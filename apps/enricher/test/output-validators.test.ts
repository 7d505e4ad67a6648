import { parse as parseCsv } from 'csv-parse/sync';
import { v5 as uuidv5 } from 'uuid';
import { beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../src/output/csv.js';
import { createFormatter, type EnrichedItem, type OutputFormat } from '../src/output/formats.js';
import { STIX_CREATED, STIX_SCO_NAMESPACE, buildStixBundle, type StixBundle, type StixObject } from '../src/output/stix.js';
import { AWKWARD_INPUTS, everyStatusItems } from './helpers/every-status.js';
import { item, record } from './helpers/items.js';
import { resultSchemaErrors, stixPatternProblems, stixSchemaErrors } from './helpers/official-validators.js';
import { stixProblems } from './helpers/stix.js';

/**
 * Every output format, written by the real formatters from what the real engine streams for
 * inputs covering every status and the awkward cases, checked by each format's official
 * validator: OASIS's STIX 2.1 JSON schemas plus the spec rules a schema cannot express, the
 * project's published result schema for JSON and JSONL, and a real CSV parser for CSV.
 */
const FIRST_RUN = new Date('2026-11-23T10:00:00.000Z');
const LATER_RUN = new Date('2026-11-30T18:30:00.000Z');

async function render(format: OutputFormat, items: readonly EnrichedItem[]): Promise<string> {
  const formatter = await createFormatter(format);
  let text = formatter.start();
  for (const one of items) text += formatter.item(one);
  const invalidInputs = items.filter((one) => one.summary.observable === null).length;
  return text + formatter.end({ interrupted: false, complete: true, invalidInputs });
}

let items: EnrichedItem[];
beforeAll(async () => {
  items = await everyStatusItems(FIRST_RUN);
});

describe('the inputs cover every status and the awkward cases', () => {
  it('has records of every status, and invalid inputs among them', () => {
    const statuses = new Set(items.flatMap((one) => one.records.map((r) => r.status)));
    expect([...statuses].sort()).toEqual(['error', 'not_found', 'ok', 'pending', 'skipped', 'unsupported']);
    expect(items.filter((one) => one.summary.observable === null).map((one) => one.summary.input)).toEqual(['=cmd|\' /C calc\'!A0', '+1+1', '@SUM(1+1)*cmd|"/C calc"!A0', '-2+3', '"quoted, with a comma"']);
    expect(items.map((one) => one.summary.verdict)).toContain('malicious');
    expect(items.map((one) => one.summary.verdict)).toContain('suspicious');
  });
});

describe('JSON Lines against docs/reference/result-record.schema.json (ajv, strict)', () => {
  it('every line is one valid record, and `input` is what the user gave', async () => {
    const lines = (await render('jsonl', items)).split('\n');
    expect(lines.pop()).toBe('');
    const records = lines.map((line) => JSON.parse(line) as { input: string });
    expect(records).toHaveLength(items.length * 2);
    for (const one of records) expect(resultSchemaErrors('record', one)).toEqual([]);
    expect([...new Set(records.map((one) => one.input))]).toEqual([...AWKWARD_INPUTS]);
  });
});

describe('JSON against docs/reference/result-record.schema.json (ajv, strict)', () => {
  it('is one document whose records and summaries are valid', async () => {
    const doc = JSON.parse(await render('json', items)) as { records: unknown[]; summaries: unknown[]; interrupted: boolean; invalidInputs: number };
    expect(Object.keys(doc)).toEqual(['records', 'summaries', 'interrupted', 'complete', 'invalidInputs']);
    expect(doc.records).toHaveLength(items.length * 2);
    for (const one of doc.records) expect(resultSchemaErrors('record', one)).toEqual([]);
    expect(doc.summaries).toHaveLength(items.length);
    for (const one of doc.summaries) expect(resultSchemaErrors('summary', one)).toEqual([]);
    expect([doc.interrupted, doc.invalidInputs]).toEqual([false, 5]);
  });
});

describe('CSV through csv-parse (RFC 4180, strict column count and quoting)', () => {
  it('parses to one row per record with the documented columns, and every cell comes back', async () => {
    const text = await render('csv', items);
    const rows = parseCsv(text, { columns: true, relax_quotes: false, relax_column_count: false, skip_empty_lines: false }) as Array<Record<(typeof CSV_COLUMNS)[number], string>>;
    expect(Object.keys(rows[0]!)).toEqual([...CSV_COLUMNS]);
    const records = items.flatMap((one) => one.records);
    expect(rows).toHaveLength(records.length);
    // Formula-like text carries one leading `'` (docs/cli.md): strip it to get the input back.
    const unformula = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);
    rows.forEach((row, index) => {
      const expected = records[index]!;
      expect(unformula(row.input)).toBe(expected.input);
      expect(row.value).toBe(expected.observable?.value ?? '');
      expect([row.provider, row.status, row.verdict]).toEqual([expected.provider.name, expected.status, expected.verdict]);
      expect(row.error_code).toBe(expected.error?.code ?? '');
      for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    });
  });
});

describe('STIX 2.1 against OASIS (JSON schemas, pattern grammar) and the spec rules a schema cannot check', () => {
  let bundle: StixBundle;
  let later: StixBundle;
  beforeAll(async () => {
    bundle = JSON.parse(await render('stix', items)) as StixBundle;
    later = JSON.parse(await render('stix', await everyStatusItems(LATER_RUN))) as StixBundle;
  });
  const ofType = (b: StixBundle, type: string) => b.objects.filter((o) => o.type === type);

  it('validates against the bundle schema (every object against its type\'s schema)', () => {
    expect(stixSchemaErrors(bundle)).toEqual([]);
    expect(stixSchemaErrors(later)).toEqual([]);
    // The schemas are live: an unencoded URL value is refused, as the issue saw.
    const raw = structuredClone(bundle);
    const url = raw.objects.find((o) => o.type === 'url')!;
    url.value = 'http://bad.example/a\\b|c^d<e>f{g}h';
    expect(stixSchemaErrors(raw).join('\n')).toContain('must match format "uri"');
  });

  it('has every pattern parse under OASIS\'s STIXPattern grammar', () => {
    expect(ofType(bundle, 'indicator').length).toBeGreaterThanOrEqual(3);
    expect(stixPatternProblems(bundle.objects)).toEqual([]);
    expect(stixPatternProblems([{ type: 'indicator', id: 'x', pattern_type: 'stix', pattern: "[url:value = 'it's']" }])).toHaveLength(1);
  });

  it('resolves every *_ref and *_refs inside the bundle, with no duplicate ids', () => {
    expect(stixProblems(bundle.objects)).toEqual([]);
  });

  it('writes URLs as RFC 3986 URIs, with the SCO id computed over the encoded value, and the pattern matching it', () => {
    const urls = ofType(bundle, 'url');
    const values = urls.map((o) => o.value).sort();
    expect(values).toEqual([
      // Core's normalisation drops the userinfo (credentials do not belong in shared intel).
      'http://192.0.2.7:8080/x%60y',
      'http://bad.example/a%5Cb%7Cc%5Ed%3Ce%3Ef%7Bg%7Dh%22i%5Bj%5Dk%25zz%41?q=%3C1%3E&r=%7C#frag%232',
      "http://xn--mnchen-3ya.example/it's,%22quoted%22/stra%C3%9Fe?%C3%A4=%C3%B6",
    ]);
    for (const url of urls) expect(url.id).toBe(`url--${uuidv5(JSON.stringify({ value: url.value }), STIX_SCO_NAMESPACE)}`);
    const patterns = ofType(bundle, 'indicator').map((o) => String(o.pattern));
    expect(patterns).toContain("[url:value = 'http://xn--mnchen-3ya.example/it\\'s,%22quoted%22/stra%C3%9Fe?%C3%A4=%C3%B6']");
  });

  it('keeps `created` per id across two runs; the later run is the same version or a later one', () => {
    const first = new Map(bundle.objects.map((o) => [o.id, o] as const));
    let shared = 0;
    for (const object of later.objects) {
      const before = first.get(object.id);
      if (!before || object.type === 'url' || !('created' in object)) continue;
      shared++;
      expect(object.created).toBe(before.created);
      expect(String(object.modified) >= String(before.modified)).toBe(true);
      // Same content, same version; otherwise a later `modified`.
      const content = (o: StixObject) => JSON.stringify({ ...o, modified: undefined, valid_from: undefined });
      if (content(object) !== content(before)) expect(String(object.modified) > String(before.modified)).toBe(true);
    }
    expect(shared).toBeGreaterThanOrEqual(10);
    expect(new Set(later.objects.map((o) => o.created).filter(Boolean))).toEqual(new Set([STIX_CREATED]));
    // The lookups were fetched again: the indicator's version is the later fetch.
    expect(ofType(later, 'indicator').map((o) => o.modified)).toEqual(ofType(bundle, 'indicator').map(() => LATER_RUN.toISOString()));
  });

  it('a changed verdict is a new version of the same indicator: same id and `created`, later `modified`', () => {
    const domain = { type: 'domain' as const, value: 'flip.example' };
    const malicious = buildStixBundle([item([record({ observable: domain, verdict: 'malicious', confidence: 'high', fetchedAt: FIRST_RUN.toISOString() })])]);
    const suspicious = buildStixBundle([item([record({ observable: domain, verdict: 'suspicious', confidence: 'low', fetchedAt: LATER_RUN.toISOString() })])]);
    const [before] = ofType(malicious, 'indicator');
    const [after] = ofType(suspicious, 'indicator');
    expect(after!.id).toBe(before!.id);
    expect(after!.created).toBe(before!.created);
    expect([before!.modified, after!.modified]).toEqual([FIRST_RUN.toISOString(), LATER_RUN.toISOString()]);
    expect([before!.indicator_types, after!.indicator_types]).toEqual([['malicious-activity'], ['anomalous-activity']]);
    for (const b of [malicious, suspicious]) expect(stixSchemaErrors(b)).toEqual([]);
  });
});
