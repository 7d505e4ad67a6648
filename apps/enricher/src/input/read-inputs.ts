import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
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

/**
 * The longest input line taken, in characters: the service's limit for one observable
 * (`POST /v1/enrich` refuses longer ones), so the CLI and the service accept the same inputs.
 * A longer line is one problem line, never held in memory: a 50 MB line is not echoed into a
 * record, and a 512 MB one does not crash the run.
 */
export const MAX_INPUT_LINE = 8_192;

type Line = { line: number; text: string } | { line: number; overlong: true };

/**
 * Splits a text stream into lines (LF or CRLF) with a cap: past `MAX_INPUT_LINE` characters the
 * rest of the line is skipped as it streams by, and the line comes out as `overlong`.
 * readline has no cap (it holds a whole line, however long), hence this small splitter.
 * The lines come a chunk of the stream at a time (an array per chunk read, none for a chunk
 * that ends no line): one async step per chunk rather than one per line through each of two
 * generators (an async generator's step is ~0.25 µs a line in a loop alone; issue 16).
 */
async function* rawLineChunks(stream: Readable): AsyncGenerator<Line[]> {
  let partial = '';
  let overlong = false;
  let line = 0;
  // Standard input gives Buffers: decode them without splitting a UTF-8 sequence across chunks.
  const decoder = new StringDecoder('utf8');
  for await (const data of stream as AsyncIterable<string | Buffer>) {
    const chunk = typeof data === 'string' ? data : decoder.write(data);
    const lines: Line[] = [];
    let from = 0;
    for (;;) {
      const newline = chunk.indexOf('\n', from);
      const piece = newline === -1 ? chunk.slice(from) : chunk.slice(from, newline);
      if (!overlong) {
        partial += piece;
        if (partial.length > MAX_INPUT_LINE + 1) {
          overlong = true;
          partial = '';
        }
      }
      if (newline === -1) break;
      line += 1;
      if (overlong) lines.push({ line, overlong: true });
      else lines.push({ line, text: partial.endsWith('\r') ? partial.slice(0, -1) : partial });
      partial = '';
      overlong = false;
      from = newline + 1;
    }
    if (lines.length > 0) yield lines;
  }
  if (overlong) yield [{ line: line + 1, overlong: true }];
  else if (partial !== '') yield [{ line: line + 1, text: partial.endsWith('\r') ? partial.slice(0, -1) : partial }];
}

/** The lines of a text stream one by one (CSV reads them so, joining a quoted cell's lines). */
async function* rawLines(stream: Readable): AsyncGenerator<Line> {
  for await (const lines of rawLineChunks(stream)) yield* lines;
}

const tooLong = `longer than ${MAX_INPUT_LINE} characters (the limit for one observable)`;

/** Whether a line is an input line: blank lines and `#` comments are skipped (the text itself stays unchanged: a leading TAB stays in `input`). */
function isInputLine(entry: Line): boolean {
  if (!('text' in entry)) return true;
  const trimmed = entry.text.trim();
  // Blank lines and `#` comments let people keep annotated lists.
  return trimmed !== '' && !trimmed.startsWith('#');
}

/** An input line as it is, or `overlong` past MAX_INPUT_LINE. */
function inputLine(entry: Line): Line {
  // A 8,192-character observable plus the CR of a CRLF file is fine; more is not.
  return 'text' in entry && entry.text.length > MAX_INPUT_LINE ? { line: entry.line, overlong: true } : entry;
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
  for await (const batch of fileInputBatches(options)) yield* batch;
}

/**
 * `fileInputs` a batch at a time: the inputs of each chunk of the stream as one array (lines and
 * JSONL; CSV one input a batch), so a reader that hands them on one by one (the enrich command)
 * takes one async step per chunk, not one more per input.
 */
export async function* fileInputBatches(options: InputFileOptions): AsyncGenerator<RawInput[]> {
  const format = resolveInputFormat(options.path, options.format);
  const field = options.field ?? 'observable';
  const stream = open(options);
  try {
    if (format === 'lines' || format === 'jsonl') {
      for await (const lines of rawLineChunks(stream)) {
        const batch: RawInput[] = [];
        for (const raw of lines) {
          if (!isInputLine(raw)) continue;
          const entry = inputLine(raw);
          const location = `line ${entry.line}`;
          if (!('text' in entry)) batch.push({ location, problem: tooLong });
          else if (format === 'lines') batch.push({ location, raw: entry.text });
          else {
            const value = fromJson(entry.text, field);
            batch.push(typeof value === 'string' ? { location, raw: value } : { location, problem: value.problem });
          }
        }
        if (batch.length > 0) yield batch;
      }
    } else {
      for await (const input of csvInputs(rawLines(stream), options.path, field)) yield [input];
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
  for await (const lines of rawLineChunks(createReadStream(path, { encoding: 'utf8' }))) for (const entry of lines) if (isInputLine(entry)) count += 1;
  return count;
}

/** Lines a quoted CSV field may span before its opening quote counts as unclosed. */
const MAX_CSV_RECORD_LINES = 64;

/**
 * CSV with a header row, read record by record so that one bad row is one problem line and the
 * run goes on. csv-parse (loaded only for CSV input; start-up time matters more than this import)
 * parses each row, with relaxed quotes so a stray quote inside a cell (`a"b`) is kept as text.
 * Its streaming parser cannot resynchronise after an unclosed quote (`"bad` swallows the rest of
 * the file into one cell), so rows are fed to it here: a row whose quote does not close is joined
 * with the next lines (a legal multi-line cell) up to MAX_CSV_RECORD_LINES lines and
 * MAX_INPUT_LINE characters; past that the row is reported and reading resumes at the next line.
 */
async function* csvInputs(lines: AsyncGenerator<Line>, path: string, field: string): AsyncGenerator<RawInput> {
  const { parse } = await import('csv-parse/sync');
  const parseRow = (text: string): string[] | 'unclosed' | { problem: string } => {
    try {
      const rows = parse(text, { relax_quotes: true, relax_column_count: true, trim: true, skip_empty_lines: false }) as string[][];
      return rows[0] ?? [];
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'CSV_QUOTE_NOT_CLOSED') return 'unclosed';
      return { problem: `not a valid CSV row (${(error as Error).message.replace(/^Invalid /, '').split(':')[0]?.toLowerCase() ?? 'parse error'})` };
    }
  };
  // Lines read ahead while looking for a closing quote, given back when it was not found.
  const lookahead: Line[] = [];
  const next = async (): Promise<Line | undefined> => lookahead.shift() ?? (await lines.next()).value ?? undefined;
  let columns: string[] | undefined;
  let index = -1;
  for (let entry = await next(); entry; entry = await next()) {
    if (!('text' in entry)) {
      if (columns) yield { location: `line ${entry.line}`, problem: tooLong };
      else throw new UsageError(`--input ${path}: the header row is ${tooLong}`);
      continue;
    }
    const text = columns ? entry.text : entry.text.replace(/^\uFEFF/, '');
    if (text.trim() === '') continue;
    let row = text.includes('"') ? parseRow(text) : text.split(',').map((cell) => cell.trim());
    if (row === 'unclosed') {
      const taken: Line[] = [];
      let joined = text;
      while (row === 'unclosed' && taken.length < MAX_CSV_RECORD_LINES && joined.length <= MAX_INPUT_LINE) {
        const more = await next();
        if (!more) break;
        taken.push(more);
        if (!('text' in more)) break;
        joined += `\n${more.text}`;
        row = parseRow(joined);
      }
      if (row === 'unclosed' || !Array.isArray(row)) {
        // Not a multi-line cell after all: this row is bad, the lines after it are rows of their own.
        lookahead.unshift(...taken);
        row = { problem: 'not a valid CSV row (a quote that is never closed)' };
      }
    }
    if (!columns) {
      if (!Array.isArray(row)) throw new UsageError(`--input ${path}: the header row is ${row.problem.replace(/^not /, 'not ')}`);
      columns = row;
      index = columns.indexOf(field);
      if (index === -1) throw new UsageError(`--input ${path}: no column "${field}" (columns: ${columns.join(', ')}); choose one with --field`);
      continue;
    }
    const location = `line ${entry.line}`;
    if (!Array.isArray(row)) {
      yield { location, problem: row.problem };
      continue;
    }
    const value = row[index] ?? '';
    yield value ? { location, raw: value } : { location, problem: `empty "${field}" cell` };
  }
}
