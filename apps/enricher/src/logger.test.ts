import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { BatchedLines, createAppLogger, humanLogLine, requestLine, writesPlainJson } from './logger.js';

describe('log lines on a terminal', () => {
  it('are one readable line per event: level, message, code, flat context with readable numbers', () => {
    const line = JSON.stringify({ level: 40, time: 1, msg: 'retrying upstream call', code: 'X_UPSTREAM_NETWORK', provider: 'vt3', attempt: 2, delayMs: 1023.5395699844862, ratio: 0.123456 });
    expect(humanLogLine(line)).toBe('x-enrich warn: retrying upstream call [X_UPSTREAM_NETWORK] (provider=vt3, attempt=2, delayMs=1024, ratio=0.12)\n');
  });

  it('leave nested fields to JSON: a request line is its message only', () => {
    const line = JSON.stringify({ level: 30, msg: 'POST /v1/enrich 200 12 ms', req: { method: 'POST', path: '/v1/enrich' }, res: { statusCode: 200, ms: 12 } });
    expect(humanLogLine(line)).toBe('x-enrich info: POST /v1/enrich 200 12 ms\n');
  });

  it('are JSON off a terminal', () => {
    let written = '';
    const logger = createAppLogger({ level: 'info', human: false, destination: { write: (text: string) => (written += text) } });
    logger.warn({ code: 'X_TEST' }, 'hello');
    expect(JSON.parse(written)).toMatchObject({ level: 40, code: 'X_TEST', msg: 'hello' });
  });
});

describe('the request line', () => {
  const cases: Array<[string, string, number, number]> = [
    ['POST', '/v1/enrich', 200, 0],
    ['GET', '/v1/providers', 401, 12],
    ['GET', '/docs/"quoted"\\back', 404, 3],
    ['GET', '/ctl\u0001é', 400, 1234],
  ];
  it.each(cases)('written past pino is the line pino writes: %s %s %i', (method, path, statusCode, ms) => {
    let fromPino = '';
    let direct = '';
    const viaPino = requestLine(pino({ level: 'info', base: undefined }, { write: (text: string) => void (fromPino += text) }));
    const destination = { write: (text: string) => void (direct += text) };
    const marked = writesPlainJson(pino({ level: 'info', base: undefined }, destination), destination);
    viaPino(method, path, statusCode, ms);
    requestLine(marked)(method, path, statusCode, ms);
    const withoutTime = (line: string) => line.replace(/"time":\d+/, '"time":0');
    expect(withoutTime(direct)).toBe(withoutTime(fromPino));
    expect(direct.endsWith('\n')).toBe(true);
    expect(JSON.parse(direct)).toMatchObject({ level: 30, req: { method, path }, res: { statusCode, ms }, msg: `${method} ${path} ${statusCode} ${ms} ms` });
    expect(Object.keys(JSON.parse(direct) as object)).toEqual(['level', 'time', 'req', 'res', 'msg']);
  });

  it('written past pino stays pino\'s line when method, path, status and time change from line to line', () => {
    let fromPino = '';
    let direct = '';
    const viaPino = requestLine(pino({ level: 'info', base: undefined }, { write: (text: string) => void (fromPino += text) }));
    const destination = { write: (text: string) => void (direct += text) };
    const line = requestLine(writesPlainJson(pino({ level: 'info', base: undefined }, destination), destination));
    for (const [method, path, statusCode, ms] of [...cases, ...cases, cases[0]!, cases[0]!]) {
      viaPino(method, path, statusCode, ms + 1);
      line(method, path, statusCode, ms + 1);
    }
    const withoutTime = (text: string) => text.replace(/"time":\d+/g, '"time":0');
    expect(withoutTime(direct)).toBe(withoutTime(fromPino));
  });

  it('follows the logger level: nothing once it is above info', () => {
    let written = '';
    const destination = { write: (text: string) => void (written += text) };
    const logger = writesPlainJson(pino({ level: 'info', base: undefined }, destination), destination);
    const line = requestLine(logger);
    logger.level = 'warn';
    line('POST', '/v1/enrich', 200, 1);
    expect(written).toBe('');
    logger.level = 'info';
    line('POST', '/v1/enrich', 200, 1);
    expect(written).toContain('"msg":"POST /v1/enrich 200 1 ms"');
  });
});

describe('batched lines (the service JSON lines on stderr)', () => {
  it('keeps lines in order and hands them on joined, once the batch is full or when flushed', () => {
    const out: string[] = [];
    const lines = new BatchedLines((text) => out.push(text), 10);
    lines.write('one\n');
    lines.write('two\n');
    expect(out).toEqual([]);
    lines.write('three\n');
    expect(out).toEqual(['one\ntwo\nthree\n']);
    lines.write('four\n');
    lines.flush();
    lines.flush();
    expect(out).toEqual(['one\ntwo\nthree\n', 'four\n']);
  });

  it('carries pino lines and request lines written past pino in the order they were written', () => {
    const out: string[] = [];
    const lines = new BatchedLines((text) => out.push(text), 1 << 20);
    const destination = { write: (line: string) => lines.write(line) };
    const logger = writesPlainJson(pino({ level: 'info', base: undefined }, destination), destination);
    logger.info('first');
    requestLine(logger)('POST', '/v1/enrich', 200, 1);
    logger.warn('third');
    lines.flush();
    expect(out.join('').trimEnd().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['first', 'POST /v1/enrich 200 1 ms', 'third']);
  });
});
