import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argumentInputs, assertReadable, countLines, fileInputs, resolveInputFormat, type RawInput } from './read-inputs.js';

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
      { location: 'line 4', raw: 'evil[.]example' },
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
