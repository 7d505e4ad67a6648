import { describe, expect, it } from 'vitest';
import { createAppLogger, humanLogLine } from './logger.js';

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
