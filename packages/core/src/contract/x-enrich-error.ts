import type { ErrorCode } from './error-codes.js';

// A registered symbol (not a class identity) marks our errors, so `isXEnrichError` works even
// when a host ends up with two copies of @x/core in one process, where `instanceof` fails.
const MARKER = Symbol.for('x-enrich.error');

export interface XEnrichErrorOptions {
  cause?: unknown;
  /** Whether trying again later may succeed (network faults, 5xx, 429, timeouts). */
  retryable?: boolean;
  /** Extra machine-readable details (never secrets). */
  details?: Record<string, unknown>;
}

/** The base of every error x-enrich raises: a stable `code`, a human message and a `cause`. */
export class XEnrichError extends Error {
  readonly [MARKER] = true;
  readonly code: ErrorCode | (string & {});
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode | (string & {}), message: string, options: XEnrichErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'XEnrichError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }

  /** The `{ code, message, retryable }` shape used in result records. */
  toRecordError(): { code: string; message: string; retryable: boolean } {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export function isXEnrichError(error: unknown): error is XEnrichError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
}

/** One problem in a config, manifest or options object, located by dot path (`providers.vt3.options.apiKey`). */
export interface ValidationIssue {
  path: string;
  message: string;
  /** The problem's own code, when one error lists problems of several kinds (plugin loading). */
  code?: string;
}

/**
 * A validation failure that lists every problem at once. The message is printable as-is:
 * a headline, then one `  - path: message` line per issue.
 */
export class ValidationError extends XEnrichError {
  readonly issues: readonly ValidationIssue[];

  constructor(code: ErrorCode, headline: string, issues: readonly ValidationIssue[], options: XEnrichErrorOptions = {}) {
    const lines = issues.map((issue) => `  - ${issue.path || '(root)'}: ${issue.message}${issue.code === undefined ? '' : ` [${issue.code}]`}`);
    super(code, [headline, ...lines].join('\n'), { ...options, details: { ...options.details, issues } });
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

export function isValidationError(error: unknown): error is ValidationError {
  return isXEnrichError(error) && Array.isArray((error as ValidationError).issues);
}

/** Which failure an upstream call ended in; drives retry and the record's error code. */
export type UpstreamFailureKind = 'http' | 'network' | 'auth' | 'quota' | 'bad_request' | 'bad_response' | 'timeout';

const KIND_TO_CODE: Record<UpstreamFailureKind, ErrorCode> = {
  http: 'X_UPSTREAM_HTTP',
  network: 'X_UPSTREAM_NETWORK',
  auth: 'X_UPSTREAM_AUTH',
  quota: 'X_UPSTREAM_QUOTA',
  bad_request: 'X_UPSTREAM_BAD_REQUEST',
  bad_response: 'X_UPSTREAM_BAD_RESPONSE',
  timeout: 'X_TIMEOUT',
};

/**
 * What a provider throws when the upstream service fails. The engine's retry policy reads
 * `retryable` and `retryAfterMs`; the message must never contain a secret or a URL that
 * carries one (VirusTotal v2 puts the key in the query string).
 */
export class UpstreamError extends XEnrichError {
  readonly kind: UpstreamFailureKind;
  readonly status: number | undefined;
  /** The upstream's own error code, e.g. VirusTotal's `QuotaExceededError`. */
  readonly upstreamCode: string | undefined;
  /** How long the upstream asked us to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: UpstreamFailureKind,
    message: string,
    options: XEnrichErrorOptions & { status?: number; upstreamCode?: string; retryAfterMs?: number } = {},
  ) {
    const retryable = options.retryable ?? (kind === 'network' || kind === 'timeout' || kind === 'quota' || (kind === 'http' && (options.status ?? 0) >= 500));
    super(KIND_TO_CODE[kind], message, {
      ...options,
      retryable,
      details: { ...options.details, kind, status: options.status, upstreamCode: options.upstreamCode },
    });
    this.name = 'UpstreamError';
    this.kind = kind;
    this.status = options.status;
    this.upstreamCode = options.upstreamCode;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isUpstreamError(error: unknown): error is UpstreamError {
  return isXEnrichError(error) && typeof (error as UpstreamError).kind === 'string' && (error as UpstreamError).name === 'UpstreamError';
}
