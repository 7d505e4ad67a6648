import { describe, expect, it } from 'vitest';
import { UpstreamError, XEnrichError, isUpstreamError, isXEnrichError } from './x-enrich-error.js';

describe('XEnrichError', () => {
  it('is recognised by its marker even without instanceof (two package copies)', () => {
    const copy = Object.assign(Object.create(null), { [Symbol.for('x-enrich.error')]: true, code: 'X_TIMEOUT' });
    expect(isXEnrichError(copy)).toBe(true);
    expect(isXEnrichError(new Error('plain'))).toBe(false);
  });

  it('keeps its cause and code', () => {
    const cause = new Error('socket hang up');
    const error = new XEnrichError('X_UPSTREAM_NETWORK', 'could not reach upstream', { cause, retryable: true });
    expect(error.cause).toBe(cause);
    expect(error.toRecordError()).toEqual({ code: 'X_UPSTREAM_NETWORK', message: 'could not reach upstream', retryable: true });
  });
});

describe('UpstreamError', () => {
  it('retries 5xx, network, timeouts and quota but never 4xx client errors', () => {
    expect(new UpstreamError('http', 'x', { status: 503 }).retryable).toBe(true);
    expect(new UpstreamError('http', 'x', { status: 418 }).retryable).toBe(false);
    expect(new UpstreamError('network', 'x').retryable).toBe(true);
    expect(new UpstreamError('quota', 'x', { status: 429 }).retryable).toBe(true);
    expect(new UpstreamError('auth', 'x', { status: 401 }).retryable).toBe(false);
    expect(new UpstreamError('bad_request', 'x', { status: 400 }).retryable).toBe(false);
    expect(isUpstreamError(new UpstreamError('auth', 'x'))).toBe(true);
  });
});
