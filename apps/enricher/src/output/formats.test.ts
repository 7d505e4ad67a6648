import { describe, expect, it } from 'vitest';
import { zObservableSummary, zResultRecord } from '@x/core';
import { invalidItem, sampleItems } from '../../test/helpers/items.js';
import { createFormatter, OUTPUT_FORMATS, type OutputFormat } from './formats.js';
import { csvCell, CSV_COLUMNS, formatCsv } from './csv.js';
import { formatTable } from './table.js';
import { cellWidth } from '../terminal/cells.js';
import { item, record } from '../../test/helpers/items.js';
import { reasonText } from './reason-text.js';
import { parse as parseCsv } from 'csv-parse/sync';

async function run(format: OutputFormat, interrupted = false, count = 4): Promise<string> {
  const formatter = await createFormatter(format);
  let text = formatter.start();
  for (const item of sampleItems().slice(0, count)) text += formatter.item(item);
  return text + formatter.end({ interrupted, complete: !interrupted, invalidInputs: 1 });
}

describe('sample records', () => {
  it('are valid core result records (so the format tests exercise the real contract)', () => {
    for (const item of sampleItems()) {
      for (const record of item.records) expect(() => zResultRecord.parse(record)).not.toThrow();
      expect(() => zObservableSummary.parse(item.summary)).not.toThrow();
    }
  });
});

describe('jsonl', () => {
  it('writes one core result record per line, one per observable x provider', async () => {
    const lines = (await run('jsonl')).trimEnd().split('\n');
    expect(lines).toHaveLength(8);
    for (const line of lines) expect(zResultRecord.parse(JSON.parse(line))).toBeTruthy();
  });
});

describe('json', () => {
  it('is one document with records, summaries and run facts', async () => {
    const doc = JSON.parse(await run('json'));
    expect(doc.records).toHaveLength(8);
    expect(doc.summaries.map((s: { verdict: string }) => s.verdict)).toEqual(['malicious', 'suspicious', 'benign', 'malicious']);
    expect(doc).toMatchObject({ interrupted: false, complete: true, invalidInputs: 1 });
  });

  it('stays valid JSON when interrupted before or after the first item', async () => {
    expect(JSON.parse(await run('json', true, 0))).toEqual({ records: [], summaries: [], interrupted: true, complete: false, invalidInputs: 1 });
    expect(JSON.parse(await run('json', true, 1)).records).toHaveLength(2);
  });
});

describe('csv', () => {
  it('has a header and one row per record, quoting commas and quotes (RFC 4180)', async () => {
    const text = await run('csv');
    const rows = text.split('\r\n').filter(Boolean);
    expect(rows[0]).toBe(CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(9);
    expect(text).toContain(`"http://bad.example/it's,""quoted"""`);
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a\nb')).toBe('"a\nb"');
    expect(csvCell(null)).toBe('');
  });

  it('neutralises cells a spreadsheet would run as a formula (OWASP: a leading quote, then RFC 4180)', () => {
    expect(csvCell('=cmd|calc')).toBe("'=cmd|calc");
    expect(csvCell('+1+1')).toBe("'+1+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1:A2)')).toBe("'@SUM(A1:A2)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    // Neutralised first, then quoted: the quote ends up inside the quoted cell.
    expect(csvCell('\r=1')).toBe(`"'\r=1"`);
    expect(csvCell('=HYPERLINK("http://x.example","a,b")')).toBe(`"'=HYPERLINK(""http://x.example"",""a,b"")"`);
    // Only the first character counts, and numbers are data.
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('evil.example')).toBe('evil.example');
    expect(csvCell(-1)).toBe('-1');
    const [, row] = parseCsv(formatCsv([{ ...sampleItems()[0]!.records[0]!, input: '=cmd|calc' }])) as string[][];
    expect(row![CSV_COLUMNS.indexOf('input')]).toBe("'=cmd|calc");
  });

  it('keeps error codes and cache provenance in their own columns', () => {
    const [header, ...rows] = parseCsv(formatCsv(sampleItems()[2]!.records)) as string[][];
    const columns = header!;
    const failed = rows[1]!;
    expect(failed[columns.indexOf('status')]).toBe('error');
    expect(failed[columns.indexOf('error_code')]).toBe('X_UPSTREAM_QUOTA');
    expect(failed[columns.indexOf('lifecycle')]).toBe('end-of-life');
  });
});

describe('table', () => {
  const table = formatTable(sampleItems(), { interrupted: false, complete: true, invalidInputs: 1 });

  it('shows each observable once with its summary verdict, then one row per provider', () => {
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^OBSERVABLE\s+TYPE\s+SUMMARY\s+PROVIDER\s+STATUS\s+VERDICT\s+CONF\s+CACHE\s+REASON$/);
    expect(lines[1]).toMatch(/^a{64}\s+sha256\s+malicious\s+vt3\s+ok\s+malicious\s+high\s+62 of 70 engines/);
    expect(lines[2]).toMatch(/^\s+vt2\s+ok\s+malicious\s+high\s+hit 1h/);
  });

  it('tells not found, failed and clean apart', () => {
    expect(table).toMatch(/vt2\s+not_found\s+unknown/);
    expect(table).toMatch(/vt2\s+error\s+unknown\s+X_UPSTREAM_QUOTA: quota exceeded/);
    expect(table).toMatch(/192\.0\.2\.1\s+ipv4\s+benign\s+vt3\s+ok\s+benign/);
  });

  it('lists invalid inputs with their error, apart from the observables', () => {
    const withInvalid = formatTable([...sampleItems(), invalidItem('nope')], { interrupted: false, complete: true, invalidInputs: 1 });
    expect(withInvalid).toMatch(/nope\s+invalid\s+unknown\s+vt3\s+error\s+unknown\s+X_OBSERVABLE_INVALID/);
    expect(withInvalid).toContain('4 observables: 2 malicious, 1 suspicious, 1 benign, 0 unknown; 1 failed lookup; 1 invalid input');
  });

  it('counts verdicts, with plurals right, and leaves the End-of-Life warning to the log (said once per run)', () => {
    expect(table).toContain('4 observables: 2 malicious, 1 suspicious, 1 benign, 0 unknown; 1 failed lookup\n');
    expect(formatTable(sampleItems().slice(0, 1), { interrupted: false, complete: true, invalidInputs: 0 })).toMatch(/^1 observable: /m);
    expect(table).not.toContain('end-of-life');
  });

  it('fits the terminal: rows one cell short of the width, REASON cut at the end', () => {
    for (const width of [160, 120, 100]) {
      for (const line of formatTable(sampleItems(), { interrupted: false, complete: true, invalidInputs: 0 }, { width }).split('\n').slice(0, 9)) {
        expect(cellWidth(line)).toBeLessThan(width);
      }
    }
  });

  it('shortens a long hash in the middle in the table only, and shows it whole with --wide (no width)', async () => {
    const hash = `000000001062000076${'0'.repeat(46)}`;
    const items = [item([record({ observable: { type: 'sha256', value: hash }, reasons: [{ rule: 'r', message: 'a reason that is long enough to need most of a narrow terminal by itself' }] })])];
    const narrow = formatTable(items, { interrupted: false, complete: true, invalidInputs: 0 }, { width: 80 });
    expect(narrow.split('\n')[1]).toMatch(/^0000000010\d*…0+ {2}sha256/);
    expect(formatTable(items, { interrupted: false, complete: true, invalidInputs: 0 })).toContain(hash);
    const jsonl = await createFormatter('jsonl');
    expect(jsonl.item(items[0]!)).toContain(hash);
  });

  it('drops a column that is empty on every row, and SUMMARY when it only repeats VERDICT', () => {
    const items = [item([record({ observable: { type: 'domain', value: 'example.org' }, confidence: null })])];
    const header = formatTable(items, { interrupted: false, complete: true, invalidInputs: 0 }).split('\n')[0];
    expect(header).toBe('OBSERVABLE   TYPE    PROVIDER  STATUS  VERDICT');
  });

  it('measures in terminal cells: wide characters and emoji line up', () => {
    const items = [
      item([record({ observable: { type: 'domain', value: 'xn--fiq228c.example' }, input: '中文.example', reasons: [{ rule: 'r', message: '⚠️ flagged' }] })]),
      item([record({ observable: { type: 'domain', value: 'example.org' }, reasons: [{ rule: 'r', message: 'plain' }] })]),
    ];
    const lines = formatTable(items, { interrupted: false, complete: true, invalidInputs: 0 }).split('\n');
    // TYPE starts in the same cell on every row.
    const typeCell = (line: string) => cellWidth(line.slice(0, line.indexOf('domain')));
    expect(typeCell(lines[1]!)).toBe(typeCell(lines[2]!));
    expect(typeCell(lines[1]!)).toBe(cellWidth(lines[0]!.slice(0, lines[0]!.indexOf('TYPE'))));
  });

  it('says so when interrupted or empty', () => {
    expect(formatTable([], { interrupted: true, complete: false, invalidInputs: 0 })).toContain('No observables were enriched.');
    expect(formatTable([], { interrupted: true, complete: false, invalidInputs: 0 })).toContain('(interrupted)');
  });
});

describe('every format', () => {
  it.each(OUTPUT_FORMATS)('%s closes validly after an interruption', async (format) => {
    const text = await run(format, true, 2);
    if (format === 'json' || format === 'stix') expect(() => JSON.parse(text)).not.toThrow();
    expect(text.length).toBeGreaterThan(0);
  });
});

describe('reasons', () => {
  it('read as one line in the table, CSV and STIX: no period before a separator', () => {
    const record = { reasons: [{ rule: 'rate', message: 'Infection rate 0%, benign.' }, { rule: 'samples', message: '2 samples contact this host.' }] };
    expect(reasonText(record as Parameters<typeof reasonText>[0])).toBe('Infection rate 0%, benign; 2 samples contact this host');
  });
});
