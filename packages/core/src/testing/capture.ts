import type { Logger } from '../contract/logger.js';

/** One logged line: its level, its object (bindings included) and its message. */
export interface CapturedLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/**
 * A Logger that keeps every line, so tests can count warnings by `obj.code` and grep `text()`
 * for secrets. Child loggers write to the same list.
 */
export function captureLogger(): Logger & { lines: CapturedLog[]; text(): string } {
  const lines: CapturedLog[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const log = (level: CapturedLog['level']) => (obj: object, msg?: string) => void lines.push({ level, obj: { ...bindings, ...obj }, msg });
    return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: (more) => make({ ...bindings, ...more }) };
  };
  return Object.assign(make({}), { lines, text: () => lines.map((line) => JSON.stringify(line)).join('\n') });
}

/** Everything an error exposes (message, stack, own properties, the cause chain), for secret greps. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '');
      try {
        parts.push(JSON.stringify(current, Object.getOwnPropertyNames(current)));
      } catch {
        parts.push('[unserializable]');
      }
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join('\n');
}
