import { ERROR_CODES } from '../contract/error-codes.js';

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/**
 * Renders `docs/reference/errors.md` from `ERROR_CODES`, the single source of the codes.
 * `pnpm --filter @x/core gen:docs` writes it; a test fails when the file drifts.
 */
export function renderErrorsDoc(): string {
  const entries = Object.entries(ERROR_CODES) as Array<[string, { meaning: string; fix: string; surface?: 'service' }]>;
  const table = (rows: typeof entries) => ['| Code | Meaning | How to fix |', '| --- | --- | --- |', ...rows.map(([code, { meaning, fix }]) => `| \`${code}\` | ${cell(meaning)} | ${cell(fix)} |`)];
  return [
    '<!-- Generated from packages/core/src/contract/error-codes.ts by `pnpm --filter @x/core gen:docs`. Do not edit. -->',
    '# Error and warning codes',
    '',
    'Every error x-enrich raises is an `XEnrichError` with a stable `code` (never reused or renamed),',
    'a message that says what happened, and a `cause` when there is one. Check codes with',
    '`isXEnrichError(error) && error.code === "..."`: the guard works across two copies of `@x/core`.',
    'In result records, lookup failures appear as `error: { code, message, retryable }`.',
    '',
    '## Errors',
    '',
    ...table(entries.filter(([code, entry]) => !code.startsWith('X_WARN_') && entry.surface !== 'service')),
    '',
    '## HTTP service and MCP errors',
    '',
    'What `x-enrich serve` answers a request it refuses, as `{ "error": { "code", "message", "details"? } }`',
    '(the HTTP status is in each meaning); lookups that fail inside a request are records with the codes above.',
    '',
    ...table(entries.filter(([, entry]) => entry.surface === 'service')),
    '',
    '## Warnings',
    '',
    'Warnings are never thrown: they are logged with `logger.warn({ code, ... }, message)` and passed',
    "to the host's `onWarning` callback where one exists.",
    '',
    ...table(entries.filter(([code]) => code.startsWith('X_WARN_'))),
    '',
  ].join('\n');
}
