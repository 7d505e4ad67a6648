import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argumentInputs, assertReadable, countLines, fileInputBatches, fileInputs, MAX_INPUT_LINE, resolveInputFormat, type RawInput } from './read-inputs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x-enrich-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(iterable: AsyncIterable<RawInput>): Promise<RawInput[]> {
  const out: RawInput[] = [];
  for await (const input of iterable) out.push(input);
  return out;
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('input', () => {
  it('numbers arguments', () => {
    expect([...argumentInputs(['8.8.8.8', 'example.org'])]).toEqual([
      { location: 'argument 1', raw: '8.8.8.8' },
      { location: 'argument 2', raw: 'example.org' },
    ]);
  });

  it('reads one observable a line, skipping blanks and # comments, keeping line numbers', async () => {
    const path = await file('list.txt', '# suspects\n8.8.8.8\n\n  evil[.]example  \r\n');
    expect(await collect(fileInputs({ path, format: 'auto' }))).toEqual([
      { location: 'line 2', raw: '8.8.8.8' },
      { location: 'line 4', raw: '  evil[.]example  ' },
    ]);
    expect(await countLines(path)).toBe(2);
  });

  it('reads a JSONL property (or bare strings), reporting lines it cannot use', async () => {
    const path = await file('in.jsonl', '{"ioc":"8.8.8.8"}\n"example.org"\n{"other":1}\nnot json\n');
    expect(await collect(fileInputs({ path, format: 'auto', field: 'ioc' }))).toEqual([
      { location: 'line 1', raw: '8.8.8.8' },
      { location: 'line 2', raw: 'example.org' },
      { location: 'line 3', problem: 'no string property "ioc" (choose it with --field)' },
      { location: 'line 4', problem: 'not valid JSON' },
    ]);
  });

  it('reads a CSV column by its header, with quoted cells', async () => {
    const path = await file('in.csv', 'id,observable\n1,8.8.8.8\n2,"http://x.example/a,b"\n3,\n');
    expect(await collect(fileInputs({ path, format: 'auto' }))).toEqual([
      { location: 'line 2', raw: '8.8.8.8' },
      { location: 'line 3', raw: 'http://x.example/a,b' },
      { location: 'line 4', problem: 'empty "observable" cell' },
    ]);
  });

  it('keeps a line as it is in `input` (a leading TAB too; the parser trims, the record shows what was given)', async () => {
    const path = await file('tabs.txt', '\t8.8.8.8\r\n1.1.1.1\t\n');
    expect(await collect(fileInputs({ path, format: 'lines' }))).toEqual([
      { location: 'line 1', raw: '\t8.8.8.8' },
      { location: 'line 2', raw: '1.1.1.1\t' },
    ]);
  });

  it('CSV: a stray quote, an unclosed quote or a broken quoted cell is one problem line each, and the rows after it are read', async () => {
    const path = await file('quotes.csv', 'id,observable\n1,a"b\n2,"bad\n3,8.8.8.8\n4,"x"y\n5,"multi\nline",\n6,1.1.1.1\n');
    expect(await collect(fileInputs({ path, format: 'csv' }))).toEqual([
      { location: 'line 2', raw: 'a"b' },
      { location: 'line 3', problem: 'not a valid CSV row (a quote that is never closed)' },
      { location: 'line 4', raw: '8.8.8.8' },
      { location: 'line 5', problem: expect.stringMatching(/^not a valid CSV row/) },
      { location: 'line 6', raw: 'multi\nline' },
      { location: 'line 8', raw: '1.1.1.1' },
    ]);
  });

  it('CSV: an unclosed quote among 2,000 rows loses only its own row', async () => {
    const rows = Array.from({ length: 2_000 }, (_, i) => (i === 700 ? `${i},"bad` : `${i},10.0.${i >> 8}.${i & 255}`));
    const inputs = await collect(fileInputs({ path: await file('many.csv', `id,observable\n${rows.join('\n')}\n`), format: 'csv' }));
    expect(inputs).toHaveLength(2_000);
    expect(inputs.filter((input) => 'problem' in input)).toEqual([{ location: 'line 702', problem: 'not a valid CSV row (a quote that is never closed)' }]);
  });

  it('binary data is lines like any other (each one a record or a problem), never an abort', async () => {
    const bytes = Buffer.from(Array.from({ length: 4_096 }, (_, i) => (i * 7919) % 256));
    for (const [name, format] of [['bin.txt', 'lines'], ['bin.csv', 'csv'], ['bin.jsonl', 'jsonl']] as const) {
      const path = join(dir, name);
      await writeFile(path, Buffer.concat([Buffer.from(format === 'csv' ? 'observable\n' : ''), bytes, Buffer.from(format === 'jsonl' ? '\n"8.8.8.8"\n' : '\n8.8.8.8\n')]));
      const inputs = await collect(fileInputs({ path, format }));
      expect(inputs.at(-1)).toMatchObject({ raw: '8.8.8.8' });
    }
  });

  it('caps a line at 8,192 characters (the service limit): a longer one is one problem, never held in memory whole', async () => {
    const long = 'a'.repeat(MAX_INPUT_LINE + 1);
    const huge = 'b'.repeat(5_000_000);
    const path = await file('long.txt', `8.8.8.8\n${long}\n${huge}\n${'c'.repeat(MAX_INPUT_LINE)}\n1.1.1.1`);
    const problem = `longer than ${MAX_INPUT_LINE} characters (the limit for one observable)`;
    expect(await collect(fileInputs({ path, format: 'lines' }))).toEqual([
      { location: 'line 1', raw: '8.8.8.8' },
      { location: 'line 2', problem },
      { location: 'line 3', problem },
      { location: 'line 4', raw: 'c'.repeat(MAX_INPUT_LINE) },
      { location: 'line 5', raw: '1.1.1.1' },
    ]);
    expect((await collect(fileInputs({ path: await file('long.jsonl', `"x"\n"${huge}"\n"y"\n`), format: 'jsonl' }))).map((input) => ('raw' in input ? input.raw : input.problem))).toEqual(['x', problem, 'y']);
    expect((await collect(fileInputs({ path: await file('long.csv', `observable\n${huge}\nz\n`), format: 'csv' }))).map((input) => ('raw' in input ? input.raw : input.problem))).toEqual([problem, 'z']);
  });

  it('names the columns when the CSV has no such column', async () => {
    const path = await file('bad.csv', 'id,ioc\n1,8.8.8.8\n');
    await expect(collect(fileInputs({ path, format: 'csv' }))).rejects.toThrow(/no column "observable" \(columns: id, ioc\); choose one with --field/);
  });

  it('reads standard input for -', async () => {
    const stdin = Readable.from(['8.8.8.8\nexam', 'ple.org\n']);
    expect((await collect(fileInputs({ path: '-', format: 'lines', stdin }))).map((i) => 'raw' in i && i.raw)).toEqual(['8.8.8.8', 'example.org']);
  });

  it('streams: a 100,000-line file is read one line at a time', async () => {
    const path = await file('big.txt', Array.from({ length: 100_000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`).join('\n'));
    let count = 0;
    for await (const _ of fileInputs({ path, format: 'lines' })) count += 1;
    expect(count).toBe(100_000);
  });

  it('fails early and clearly on a missing file', async () => {
    await expect(assertReadable(join(dir, 'missing.txt'))).rejects.toThrow(/--input .*missing\.txt: cannot read it \(ENOENT\)/);
    expect(resolveInputFormat('x.NDJSON', 'auto')).toBe('jsonl');
  });
});

describe('input lines, however the stream cuts them', () => {
  /** What the lines format reads from `text`, written out line by line (the splitter's rules, independently). */
  function expected(text: string): RawInput[] {
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const out: RawInput[] = [];
    lines.forEach((raw, i) => {
      const location = `line ${i + 1}`;
      const problem = `longer than ${MAX_INPUT_LINE} characters (the limit for one observable)`;
      // Past the cap (with a CR's room) a line is dropped as it streams: even a comment is then a problem.
      if (raw.length > MAX_INPUT_LINE + 1) return out.push({ location, problem });
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '' || line.trim().startsWith('#')) return;
      out.push(line.length > MAX_INPUT_LINE ? { location, problem } : { location, raw: line });
    });
    return out;
  }

  it('reads the same inputs from random texts cut into random chunks (CRLF, comments, blank, long and multi-byte lines)', async () => {
    const pieces = ['8.8.8.8', 'example.org', '  # a comment', '#', '', ' ', '\t1.1.1.1', 'h\u00e9llo.example', '\u{1F600}', '\r', 'x'.repeat(MAX_INPUT_LINE), 'y'.repeat(MAX_INPUT_LINE + 1), 'z'.repeat(MAX_INPUT_LINE + 2), `#${'c'.repeat(MAX_INPUT_LINE + 5)}`];
    let run = 0;
    // fast-check draws the texts and the cuts (and prints the seed of a failing run).
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const random = () => g(fc.double, { min: 0, max: 1, maxExcluded: true, noNaN: true });
        run++;
        let text = '';
        for (let i = Math.floor(random() * 40); i > 0; i--) text += pieces[Math.floor(random() * pieces.length)]! + (random() < 0.3 ? '\r\n' : '\n');
        if (random() < 0.5) text += pieces[Math.floor(random() * pieces.length)]!;
        // Cut the bytes anywhere, inside a UTF-8 sequence or a CRLF too, as standard input may.
        const bytes = Buffer.from(text, 'utf8');
        const chunks: Buffer[] = [];
        for (let at = 0; at < bytes.length; ) {
          const size = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 20_000));
          chunks.push(bytes.subarray(at, at + size));
          at += size;
        }
        const stdin = Readable.from(chunks);
        expect(await collect(fileInputs({ path: '-', format: 'lines', stdin })), JSON.stringify(text.slice(0, 200))).toEqual(expected(text));
        const path = await file(`random-${run}.txt`, text);
        expect(await countLines(path)).toBe(expected(text).length);
      }),
      { numRuns: 60 },
    );
  });
});

describe('input batches', () => {
  it('are the inputs of each chunk read, in order, for every format (CSV one input a batch)', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => (i % 7 === 0 ? '# comment' : `10.1.${(i >> 8) & 255}.${i & 255}`));
    for (const [name, text, format] of [
      ['batch.txt', lines.join('\n'), 'lines'],
      ['batch.jsonl', lines.map((line) => (line.startsWith('#') ? line : JSON.stringify({ observable: line }))).join('\n'), 'jsonl'],
      ['batch.csv', `observable\n${lines.filter((line) => !line.startsWith('#')).join('\n')}`, 'csv'],
    ] as const) {
      const path = await file(name, text);
      const batches: RawInput[][] = [];
      for await (const batch of fileInputBatches({ path, format })) batches.push(batch);
      expect(batches.flat()).toEqual(await collect(fileInputs({ path, format })));
      expect(batches.flat()).toHaveLength(lines.filter((line) => !line.startsWith('#')).length);
      expect(batches.every((batch) => batch.length > 0)).toBe(true);
      if (format === 'csv') expect(batches.every((batch) => batch.length === 1)).toBe(true);
      else expect(batches.length).toBeLessThan(batches.flat().length / 100);
    }
  });
});
