import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { UsageError } from '../usage-error.js';

import { INPUT_FORMATS } from '../choices.js';

export { INPUT_FORMATS };
export type InputFormat = (typeof INPUT_FORMATS)[number];

/**
 * One raw input and where it came from (`argument 2`, `line 17`), for error messages. `problem`
 * marks a line of a JSONL or CSV file that holds no observable at all (bad JSON, missing cell).
 */
export type RawInput = { location: string; raw: string } | { location: string; problem: string };

export interface InputFileOptions {
  /** A path, or `-` for standard input. */
  path: string;
  /** `auto` picks by extension: `.jsonl`/`.ndjson` -> jsonl, `.csv` -> csv, anything else -> lines. */
  format: InputFormat;
  /** JSONL: the property holding the observable (default `observable`). CSV: the column (default `observable`). */
  field?: string;
  /** Standard input, injectable for tests. */
  stdin?: Readable;
}

export function resolveInputFormat(path: string, format: InputFormat): Exclude<InputFormat, 'auto'> {
  if (format !== 'auto') return format;
  const extension = extname(path).toLowerCase();
  if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl';
  if (extension === '.csv') return 'csv';
  return 'lines';
}

/** Observables given as arguments. */
export function* argumentInputs(values: readonly string[]): Generator<RawInput> {
  for (const [index, value] of values.entries()) yield { location: `argument ${index + 1}`, raw: value };
}

function open(options: InputFileOptions): Readable {
  if (options.path === '-') return options.stdin ?? process.stdin;
  const stream = createReadStream(options.path, { encoding: 'utf8' });
  return stream;
}

/** Fails early (exit 1) when the input file is missing, instead of mid-run. */
export async function assertReadable(path: string): Promise<void> {
  if (path === '-') return;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`--input ${path}: not a file`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--input ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

async function* lineInputs(stream: Readable): AsyncGenerator<{ line: number; text: string }> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    const trimmed = text.trim();
    // Blank lines and `#` comments let people keep annotated lists.
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    yield { line, text: trimmed };
  }
}

function fromJson(text: string, field: string): string | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not valid JSON' };
  }
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const picked = (value as Record<string, unknown>)[field];
    if (typeof picked === 'string') return picked;
    return { problem: `no string property "${field}" (choose it with --field)` };
  }
  return { problem: 'expected a JSON object or string' };
}

/**
 * Streams the raw inputs of a file or stdin, one at a time: a 100,000-line file is never held
 * in memory. Lines mode skips blank lines and `#` comments; JSONL reads `field` from each
 * object (or takes a bare JSON string); CSV needs a header row and reads the `field` column.
 */
export async function* fileInputs(options: InputFileOptions): AsyncGenerator<RawInput> {
  const format = resolveInputFormat(options.path, options.format);
  const field = options.field ?? 'observable';
  const stream = open(options);
  try {
    if (format === 'lines') {
      for await (const { line, text } of lineInputs(stream)) yield { location: `line ${line}`, raw: text };
    } else if (format === 'jsonl') {
      for await (const { line, text } of lineInputs(stream)) {
        const value = fromJson(text, field);
        yield typeof value === 'string' ? { location: `line ${line}`, raw: value } : { location: `line ${line}`, problem: value.problem };
      }
    } else {
      // Loaded only for CSV input: the CLI's start-up time matters more than this import.
      const { parse: parseCsv } = await import('csv-parse');
      const parser = stream.pipe(parseCsv({ columns: true, skip_empty_lines: true, trim: true, bom: true, relax_column_count: true, info: true }));
      let checked = false;
      for await (const row of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
        if (!checked) {
          checked = true;
          if (!(field in row.record)) {
            throw new UsageError(`--input ${options.path}: no column "${field}" (columns: ${Object.keys(row.record).join(', ')}); choose one with --field`);
          }
        }
        const value = row.record[field] ?? '';
        yield value ? { location: `line ${row.info.lines}`, raw: value } : { location: `line ${row.info.lines}`, problem: `empty "${field}" cell` };
      }
    }
  } finally {
    if (options.path !== '-') stream.destroy();
  }
}

/**
 * Counts a file's input lines (not blank, not a comment) without holding it, so the progress bar has a total.
 * Returns undefined for stdin. A CSV header is counted too (one off, which a bar tolerates).
 */
export async function countLines(path: string): Promise<number | undefined> {
  if (path === '-') return undefined;
  let count = 0;
  for await (const _ of lineInputs(createReadStream(path, { encoding: 'utf8' }))) count += 1;
  return count;
}
