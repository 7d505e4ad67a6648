import * as z from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses `500ms`, `10s`, `1m`, `6h`, `1d` (or a bare number of milliseconds) into milliseconds. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input) : undefined;
  const match = DURATION.exec(input.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** Formats milliseconds back into the largest exact unit (`90000` -> `90s`, `3600000` -> `1h`). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration in config: `500ms`, `10s`, `1m`, `6h`, `1d`, or a number of milliseconds. Output: milliseconds. */
export const zDuration = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(value)}: use a number with ms, s, m, h or d (e.g. 500ms, 10s, 1m, 6h, 1d)` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'A duration: 500ms, 10s, 1m, 6h, 1d (or milliseconds as a number).' });
