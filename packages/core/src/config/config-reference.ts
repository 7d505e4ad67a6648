import type { z } from 'zod';
import { zEnricherConfig } from './config-schema.js';
import { formatDuration } from '../contract/duration.js';
import { isSecretSchema } from '../contract/secret.js';
import { defOf } from './zod-def.js';

const descriptionOf = (schema: z.ZodType): string | undefined => (schema as unknown as { description?: string }).description;

function isDuration(schema: z.ZodType): boolean {
  const def = defOf(schema);
  if (def.type !== 'pipe' || !def.in || !def.out || defOf(def.out).type !== 'transform') return false;
  const input = defOf(def.in);
  return input.type === 'union' && (input.options ?? []).map((option) => defOf(option).type).sort().join() === 'number,string';
}

/** Strips optional/default/pipe wrappers, keeping the outermost description and the default. */
function unwrap(schema: z.ZodType): { core: z.ZodType; description?: string; defaultValue?: unknown; hasDefault: boolean; optional: boolean } {
  let current = schema;
  let description = descriptionOf(schema);
  let defaultValue: unknown;
  let hasDefault = false;
  let optional = false;
  for (;;) {
    const def = defOf(current);
    if ((def.type === 'default' || def.type === 'prefault') && !hasDefault) {
      hasDefault = true;
      defaultValue = def.defaultValue;
    }
    if (def.type === 'optional') optional = true;
    let next: z.ZodType | undefined;
    if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(def.type)) next = def.innerType;
    else if (def.type === 'pipe' && !isDuration(current)) next = def.in;
    if (!next) return { core: current, description, defaultValue, hasDefault, optional };
    current = next;
    description ??= descriptionOf(current);
  }
}

function typeName(schema: z.ZodType): string {
  if (isDuration(schema)) return 'duration';
  const def = defOf(schema);
  switch (def.type) {
    case 'literal':
      return (def.values ?? []).map((value) => JSON.stringify(value)).join(' \\| ');
    case 'enum':
      return Object.values(def.entries ?? {}).map((value) => JSON.stringify(value)).join(' \\| ');
    case 'union':
      return [...new Set((def.options ?? []).map((option) => typeName(unwrap(option).core)))].join(' \\| ');
    case 'array':
      return `list of ${typeName(unwrap(def.element!).core)}`;
    case 'record':
      return `map of ${typeName(unwrap(def.valueType!).core)}`;
    case 'number':
      return (schema as unknown as { isInt?: boolean }).isInt === true ? 'integer' : 'number';
    default:
      return def.type;
  }
}

function formatDefault(value: unknown, core: z.ZodType): string {
  if (isDuration(core) && typeof value === 'number') return `\`${formatDuration(value)}\``;
  if (value !== null && typeof value === 'object') return Object.keys(value).length === 0 ? '`{}`' : 'see fields';
  return `\`${JSON.stringify(value)}\``;
}

interface Row {
  path: string;
  type: string;
  defaultText: string;
  description: string;
  secret: boolean;
}

function walk(schema: z.ZodType, path: string, rows: Row[], note = ''): void {
  const { core, description, defaultValue, hasDefault, optional } = unwrap(schema);
  const def = defOf(core);
  if (path !== '') {
    const defaultText = hasDefault ? formatDefault(defaultValue, core) : optional ? '(optional)' : '**required**';
    rows.push({ path, type: typeName(core), defaultText, description: `${note}${description ?? ''}`.trim(), secret: isSecretSchema(schema) || isSecretSchema(core) });
  }
  const child = (key: string) => (path === '' ? key : `${path}.${key}`);
  if (def.type === 'object') {
    for (const [key, value] of Object.entries(def.shape ?? {})) walk(value, child(key), rows, note);
  } else if (def.type === 'record' && def.valueType && defOf(unwrap(def.valueType).core).type !== 'unknown') {
    const keyDef = def.keyType ? defOf(unwrap(def.keyType).core) : undefined;
    const placeholder = keyDef?.type === 'enum' ? '<type>' : path === 'providers' ? '<name>' : '<key>';
    walkChildren(def.valueType, child(placeholder), rows, note);
  } else if (def.type === 'array' && def.element) {
    walkChildren(def.element, `${path}[]`, rows, note);
  } else if (def.type === 'union') {
    for (const option of def.options ?? []) {
      const optionCore = unwrap(option).core;
      const optionDef = defOf(optionCore);
      if (optionDef.type === 'array' && optionDef.element) {
        walkChildren(optionDef.element, `${path}[]`, rows, note);
        continue;
      }
      if (optionDef.type !== 'object' && optionDef.type !== 'union') continue;
      if (def.discriminator && optionDef.type === 'object') {
        const discriminator = def.discriminator;
        const tagOf = (variant: z.ZodType) => defOf(unwrap(defOf(unwrap(variant).core).shape![discriminator]!).core).values?.[0];
        const tag = tagOf(optionCore);
        if (!rows.some((row) => row.path === child(discriminator))) {
          const tags = (def.options ?? []).map((variant) => JSON.stringify(tagOf(variant))).join(' \\| ');
          rows.push({ path: child(discriminator), type: tags, defaultText: '**required**', description: `${note}Which kind; the fields marked (${discriminator}: ...) apply to that kind only.`, secret: false });
        }
        for (const [key, value] of Object.entries(optionDef.shape ?? {})) {
          if (key !== discriminator) walk(value, child(key), rows, `${note}(${discriminator}: ${String(tag)}) `);
        }
      } else {
        walkChildren(optionCore, path, rows, note);
      }
    }
  }
}

/** Walks a container's children without repeating a row for the container itself. */
function walkChildren(schema: z.ZodType, path: string, rows: Row[], note: string): void {
  const def = defOf(unwrap(schema).core);
  if (def.type === 'object' || def.type === 'union') {
    const before = rows.length;
    walk(schema, path, rows, note);
    if (def.type === 'object' || rows[before]?.path === path) rows.splice(before, 1);
    return;
  }
  walk(schema, path, rows, note);
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\\\\|', '\\|').replaceAll('\n', ' ');

/**
 * Renders `docs/reference/configuration.md` from `zEnricherConfig`: every field with its type,
 * default and description. `pnpm --filter @x/core gen:docs` writes it; a test fails on drift.
 */
export function renderConfigReference(): string {
  const rows: Row[] = [];
  walk(zEnricherConfig, '', rows);
  return [
    '<!-- Generated from packages/core/src/config/config-schema.ts by `pnpm --filter @x/core gen:docs`. Do not edit. -->',
    '# Configuration reference',
    '',
    'The config file is YAML or JSON. String values may use `${VAR}` and `${VAR:-default}` (from the',
    'environment, then from a `.env` file next to the config, which never overrides the real',
    'environment; write `$${VAR}` for a literal). Durations are written `500ms`, `10s`, `1m`, `6h`, `1d`',
    '(or a number of milliseconds). All problems are reported at once, with dot paths.',
    'For editor completion, `configJsonSchema()` (or `x-enrich config schema`) gives the JSON Schema.',
    '',
    "Each provider's own `options` are documented on its page under `docs/providers/`; options that",
    'hold secrets are redacted whenever the config is printed or logged.',
    '',
    '```yaml',
    'providers:',
    '  vt3:                                   # instance name',
    '    use: "@x/provider-virustotal-v3"     # package name or ./path',
    '    options: { apiKey: "${VIRUSTOTAL_API_KEY}" }',
    '    rateLimit: [{ requests: 4, per: 1m }, { requests: 500, per: 1d }]',
    '    cache: { ttl: { ipv4: 1h }, notFoundTtl: 10m }',
    '    resilience: { timeout: 10s, retry: { maxAttempts: 3 } }',
    'cache: { store: memory }',
    '```',
    '',
    table(rows),
    '',
  ].join('\n');
}

function table(rows: readonly Row[]): string {
  return ['| Field | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows.map((row) => `| \`${row.path}\` | ${cell(row.type)} | ${row.defaultText} | ${cell(row.description)} |`)].join('\n');
}


/**
 * A provider README's options table in Markdown (Option | Type | Default | Description), from its
 * zod options schema: the one source for a provider README's table (`x-enrich docs provider`
 * prints it). Secret-marked options say so in the Default column.
 */
export function renderProviderOptionsTable(optionsSchema: z.ZodType): string {
  const rows: Row[] = [];
  walk(optionsSchema, '', rows);
  // A list of plain values already reads "list of string" on its own row; its elements add nothing.
  const shown = rows.filter((row) => !(row.path.endsWith('[]') && row.description === ''));
  return [
    '| Option | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...shown.map((row) => `| \`${row.path}\` | ${cell(row.type)} | ${row.secret ? `${row.defaultText}, secret` : row.defaultText} | ${cell(row.description)} |`),
    '',
  ].join('\n');
}
