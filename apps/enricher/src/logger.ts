import { Writable } from 'node:stream';
import { destination as pinoDestination, pino, type Level } from 'pino';
import type { Logger } from '@x/core';
import { stderrDestination } from './terminal/stderr.js';

import { LOG_LEVELS } from './choices.js';

export { LOG_LEVELS };
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** `292.7232166586117` is noise to a person: whole numbers from 10 up, two decimals below. */
function readableNumber(value: number): string {
  if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 10 ? String(Math.round(value)) : String(Number(value.toFixed(2)));
}

/**
 * pino lines for a person at a terminal: `x-enrich warn: message [CODE] (provider=vt2)`.
 * Pipelines (stderr not a terminal) keep pino's JSON lines, which log shippers parse.
 */
export function humanLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, msg, code, time: _time, pid: _pid, hostname: _hostname, err, ...rest } = entry;
  const context = Object.entries(rest)
    .filter(([, value]) => value !== undefined && (typeof value !== 'object' || value === null))
    .map(([key, value]) => `${key}=${typeof value === 'number' ? readableNumber(value) : String(value)}`);
  const error = err && typeof err === 'object' && 'message' in err ? ` (${String((err as { message: unknown }).message)})` : '';
  return `x-enrich ${LEVEL_NAMES[Number(level)] ?? 'log'}: ${String(msg ?? '')}${error}${code ? ` [${String(code)}]` : ''}${context.length ? ` (${context.join(', ')})` : ''}\n`;
}

/**
 * The app's logger: pino on stderr (stdout carries results only). Secrets are removed by
 * core's redacting wrapper once the providers are loaded and their secrets are known.
 */
export function createAppLogger(options: { level: LogLevel; human?: boolean; destination?: { write(text: string): unknown }; bufferMs?: number }): Logger {
  if (options.bufferMs !== undefined && !options.human && !options.destination) {
    const destination = bufferedStderr(options.bufferMs);
    return writesPlainJson(pino({ level: options.level as Level | 'silent', base: undefined }, destination), destination) as unknown as Logger;
  }
  // stderr, above the progress bar while one is drawn.
  const destination = options.destination ?? stderrDestination;
  const stream = options.human
    ? new Writable({
        write(chunk: Buffer, _encoding, callback) {
          for (const line of chunk.toString('utf8').split('\n')) if (line) destination.write(humanLogLine(line));
          callback();
        },
      })
    : destination;
  return pino({ level: options.level as Level | 'silent', base: undefined }, stream as NodeJS.WritableStream) as unknown as Logger;
}

/**
 * stderr for a service's JSON lines: gathered and written at most every `ms` milliseconds (or
 * once 32 KiB are waiting) rather than one write per line. A service logs a line per request,
 * and a synchronous write per request was a measurable share of a cached lookup's time. The lines
 * are for a log shipper, which does not notice a fraction of a second; a person at a terminal
 * gets the human lines, written at once. Whatever is waiting is written when the process exits.
 *
 * The lines wait in an array here and go to pino's destination (sonic-boom, which writes them
 * synchronously) joined, one string per batch: sonic-boom's own buffering measures its whole
 * pending string (`Buffer.byteLength`, flattening it) on every write, about 4 KB of copying per
 * request line at this rate.
 */
function bufferedStderr(ms: number): { write(line: string): boolean; flushSync(): void } {
  const destination = pinoDestination({ dest: 2, sync: true });
  const lines = new BatchedLines((text) => destination.write(text), BATCH_CHARS);
  const flush = () => {
    lines.flush();
    destination.flushSync();
  };
  setInterval(() => lines.flush(), ms).unref();
  process.once('exit', flush);
  return { write: (line) => lines.write(line), flushSync: flush };
}

/**
 * A batch is written once it holds this many characters (bytes for the ASCII of JSON lines). Each
 * write is a system call into a pipe or file and sonic-boom's bookkeeping around it, about as
 * costly for 8 KiB as for 32: at 8 KiB (~55 request lines) that was still ~1 µs of a cached
 * request. The timer above bounds how late a line is either way.
 */
const BATCH_CHARS = 32 * 1024;

/** Lines kept in order and handed on joined, once `size` characters are waiting or on `flush`. */
export class BatchedLines {
  private lines: string[] = [];
  private chars = 0;

  constructor(
    private readonly out: (text: string) => unknown,
    private readonly size: number,
  ) {}

  write(line: string): boolean {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= this.size) this.flush();
    return true;
  }

  flush(): void {
    if (this.lines.length === 0) return;
    const text = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join('');
    this.lines = [];
    this.chars = 0;
    this.out(text);
  }
}

/** pino loggers of createAppLogger's plain JSON lines (no base fields, no serializers, no formatters), and where they write. */
const plainJsonLoggers = new WeakMap<object, { write(line: string): unknown }>();

/**
 * Marks `logger` as writing pino's plain JSON lines to `destination`, which `requestLine` may
 * then write to directly. Only for a logger made as `pino({ level, base: undefined }, destination)`:
 * a line written past pino must be the line pino would have written.
 */
export function writesPlainJson<T extends object>(logger: T, destination: { write(line: string): unknown }): T {
  plainJsonLoggers.set(logger, destination);
  return logger;
}

/** Writes the request line of one answered request (at info). */
export type RequestLine = (method: string, path: string, statusCode: number, ms: number) => void;

interface InfoLogger {
  levelVal?: number;
  info(object: object, message: string): void;
}

/**
 * The service's line per request: `{"level":30,"time":…,"req":{"method","path"},"res":{"statusCode","ms"},"msg":"POST /v1/enrich 200 12 ms"}`.
 * For a logger `writesPlainJson` marked, the line is written as a string, byte for byte what pino
 * writes for `info({ req, res }, msg)` (fields in pino's order: level, time, the object's keys, msg),
 * without pino's generic serialization of the object: at one line per request that was about as
 * much CPU as the engine's cached lookups (docs/performance.md). Any other logger (the human
 * lines on a terminal, tests' own) gets the `info` call.
 */
export function requestLine(logger: InfoLogger): RequestLine {
  const destination = plainJsonLoggers.get(logger);
  if (destination === undefined) {
    return (method, path, statusCode, ms) => {
      logger.info({ req: { method, path }, res: { statusCode, ms } }, `${method} ${path} ${statusCode} ${ms} ms`);
    };
  }
  // The parts around `ms` for the last method, path and status (a service's requests repeat them).
  let last = { method: '', path: '', statusCode: 0, req: '', msg: '' };
  return (method, path, statusCode, ms) => {
    // The level as pino checks it (it could be raised after the service started).
    if ((logger.levelVal ?? 30) > 30) return;
    if (last.method !== method || last.path !== path || last.statusCode !== statusCode) {
      // The message is JSON-quoted whole; its end (` <ms> ms"`) is added per line. method is a
      // token (node's parser allows no quote or backslash in it), statusCode and ms integers:
      // only the path needs quoting, and the message, which holds it.
      const quoted = JSON.stringify(`${method} ${path} ${statusCode} `);
      last = {
        method,
        path,
        statusCode,
        req: `,"req":{"method":"${method}","path":${JSON.stringify(path)}},"res":{"statusCode":${statusCode},"ms":`,
        msg: `},"msg":${quoted.slice(0, -1)}`,
      };
    }
    destination.write(`{"level":30,"time":${Date.now()}${last.req}${ms}${last.msg}${ms} ms"}\n`);
  };
}
