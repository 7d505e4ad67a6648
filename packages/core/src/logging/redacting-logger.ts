import { createSecretScrubber, type SecretScrubber } from '../contract/secret.js';
import type { Logger } from '../contract/logger.js';

/**
 * A deep copy of `value` with secrets scrubbed from every string (keys included). Errors become
 * plain `{ type, message, stack, code, ... , cause }` objects so their messages and stacks are
 * scrubbed too. Cycles become `[Circular]`.
 */
export function scrubDeep(value: unknown, scrub: SecretScrubber, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      const plain: Record<string, unknown> = { type: value.name, message: value.message, stack: value.stack };
      for (const [key, item] of Object.entries(value)) plain[key] = item;
      if (value.cause !== undefined) plain.cause = value.cause;
      return scrubDeep(plain, scrub, seen);
    }
    if (Array.isArray(value)) return value.map((item) => scrubDeep(item, scrub, seen));
    if (value instanceof Date) return value;
    if (value instanceof Map) return scrubDeep(Object.fromEntries(value), scrub, seen);
    if (value instanceof Set) return scrubDeep([...value], scrub, seen);
    if (ArrayBuffer.isView(value)) return value;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[scrub(key)] = scrubDeep(item, scrub, seen);
    return copy;
  } finally {
    seen.delete(value);
  }
}

/** The secrets each logger made here hides (its own and those of the logger it wraps). */
const redacted = new WeakMap<Logger, ReadonlySet<string>>();

/**
 * Wraps a logger so the given secrets never reach it: each message, each logged object
 * (deeply, including errors and their causes) and each child binding is scrubbed first.
 * Wrap the host's logger once, with `collectSecrets(loadedProviders)`, before anything logs; a
 * logger that already hides every one of `secrets` comes back as it is, so wrapping is done once.
 */
export function createRedactingLogger(logger: Logger, secrets: readonly string[]): Logger {
  // A host that wrapped its logger already (the app does, before the engine exists) hands the
  // engine a redacting logger: wrapping it again would scrub every line twice for nothing.
  const covered = redacted.get(logger);
  if (covered && secrets.every((secret) => covered.has(secret))) return logger;
  const scrub = createSecretScrubber(secrets);
  const all = new Set([...(covered ?? []), ...secrets]);
  const wrap = (inner: Logger): Logger => {
    // pino (and loggers like it) say which levels they write: a line they would drop is not
    // copied and scrubbed first (the upstream client logs one debug line per request).
    const enabled = (inner as { isLevelEnabled?: unknown }).isLevelEnabled;
    const forward =
      (level: 'debug' | 'info' | 'warn' | 'error') =>
      (obj: object, msg?: string): void => {
        if (typeof enabled === 'function' && (enabled as (level: string) => unknown).call(inner, level) === false) return;
        const cleanObj = scrubDeep(obj, scrub) as object;
        if (msg === undefined) inner[level](cleanObj);
        else inner[level](cleanObj, scrub(msg));
      };
    const wrapped: Logger = {
      debug: forward('debug'),
      info: forward('info'),
      warn: forward('warn'),
      error: forward('error'),
      child: (bindings) => wrap(inner.child(scrubDeep(bindings, scrub) as Record<string, unknown>)),
    };
    redacted.set(wrapped, all);
    return wrapped;
  };
  return wrap(logger);
}
