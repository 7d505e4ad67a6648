import { describe, expect, it } from 'vitest';
import { UpstreamError, XEnrichError } from '../contract/x-enrich-error.js';
import type { Logger } from '../contract/logger.js';
import { createRedactingLogger } from './redacting-logger.js';

const KEY = 'vt-4f1c2d9e8b7a6c5d4e3f2a1b0c9d8e7f';

function captureLogger(lines: string[], bindings: Record<string, unknown> = {}): Logger {
  const write = (level: string) => (obj: object, msg?: string) => {
    lines.push(JSON.stringify({ level, ...bindings, ...obj, msg }, (_key, value: unknown) => (value instanceof Error ? { message: value.message, stack: value.stack } : value)));
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (more) => captureLogger(lines, { ...bindings, ...more }) };
}

describe('createRedactingLogger', () => {
  it('wraps once: a logger that already hides the secrets comes back as it is, a new secret adds a layer', () => {
    const lines: string[] = [];
    const once = createRedactingLogger(captureLogger(lines), [KEY]);
    expect(createRedactingLogger(once, [KEY])).toBe(once);
    expect(createRedactingLogger(once, [])).toBe(once);
    const other = 'second-secret-value-0123456789';
    const twice = createRedactingLogger(once, [other, KEY]);
    expect(twice).not.toBe(once);
    expect(createRedactingLogger(twice, [KEY, other])).toBe(twice);
    twice.info({ a: KEY, b: other }, `${KEY} ${other}`);
    expect(lines.join('\n')).not.toMatch(new RegExp(`${KEY}|${other}`));
  });

  it('keeps the key out of messages, objects, errors, causes and child bindings', () => {
    const lines: string[] = [];
    const logger = createRedactingLogger(captureLogger(lines), [KEY]);
    logger.info({ url: `https://api.example.org/file/report?apikey=${KEY}`, headers: { 'x-apikey': KEY } }, `calling with ${KEY}`);
    const cause = new Error(`socket closed while sending ${KEY}`);
    logger.error({ err: new XEnrichError('X_PROVIDER_FAILED', `failed for key ${KEY}`, { cause }) }, 'lookup failed');
    logger.warn({ err: new UpstreamError('auth', `key ${KEY} rejected`, { status: 401 }) });
    logger.child({ apiKey: KEY, provider: 'vt3' }).debug({ deep: [{ deeper: { value: `x${KEY}x` } }] }, 'child');
    const cyclic: Record<string, unknown> = { key: KEY };
    cyclic.self = cyclic;
    logger.info(cyclic, 'cyclic');

    const output = lines.join('\n');
    expect(lines).toHaveLength(5);
    expect(output).not.toContain(KEY);
    expect(output).toContain('[REDACTED]');
    expect(output).toContain('lookup failed');
    expect(output).toContain('"provider":"vt3"');
  });

  it('does not copy a line the logger says it would drop (pino isLevelEnabled), and scrubs what it writes', () => {
    const lines: string[] = [];
    const inner = captureLogger(lines);
    const asked: string[] = [];
    const leveled = Object.assign(inner, { isLevelEnabled: (level: string) => (asked.push(level), level !== 'debug') });
    let read = false;
    const logger = createRedactingLogger(leveled, [KEY]);
    logger.debug({ get costly() { read = true; return KEY; } }, 'dropped');
    logger.info({ key: KEY }, 'written');
    expect([read, asked, lines.length]).toEqual([false, ['debug', 'info'], 1]);
    expect(lines[0]).not.toContain(KEY);
  });

  it('hides the URL-encoded form of a secret too', () => {
    const lines: string[] = [];
    const secret = 'a+b/c=d secret';
    createRedactingLogger(captureLogger(lines), [secret]).info({ url: `https://x.org/?k=${encodeURIComponent(secret)}` }, 'encoded');
    expect(lines.join('')).not.toContain(encodeURIComponent(secret));
  });

  it('ignores empty secrets instead of redacting everything', () => {
    const lines: string[] = [];
    createRedactingLogger(captureLogger(lines), ['']).info({ a: 'plain' }, 'plain text');
    expect(lines[0]).toContain('plain text');
  });
});
