import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import * as z from 'zod';
import { ValidationError, XEnrichError, type ValidationIssue } from '../contract/x-enrich-error.js';
import { zEnricherConfig, type EnricherConfig } from './config-schema.js';
import type { ProviderManifest } from '../contract/manifest.js';
import { configSectionJsonSchema, type JsonSchemaObject as JsonSchema } from './config-json-schema.js';
import { interpolateEnv, type Env } from './interpolate.js';
import { validationIssues } from './validation-issues.js';
import { oneShot } from './parse-once.js';

export type { Env } from './interpolate.js';

export interface ParseConfigOptions<T = EnricherConfig> {
  /** Variables for `${VAR}` references. Default: `process.env`. */
  env?: Env;
  /**
   * The schema to validate with. Default: `zEnricherConfig`. A host with sections of its own
   * passes `zEnricherConfig.extend({ ... })`, so one file and one report of problems cover both.
   */
  schema?: z.ZodType<T>;
  /** Named in the error headline (a file path), so operators know which file to fix. */
  source?: string;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * Validates a configuration object (already parsed from YAML/JSON, or built by a host):
 * interpolates `${VAR}` / `${VAR:-default}` in string values, applies defaults and turns
 * durations into milliseconds.
 *
 * @throws ValidationError `X_CONFIG_INVALID` listing every problem at once with dot paths,
 *   including missing environment variables. Messages never quote option values.
 */
export function parseConfig<T = EnricherConfig>(input: unknown, options: ParseConfigOptions<T> = {}): T {
  const { value, issues: envIssues } = interpolateEnv(input ?? {}, options.env ?? process.env);
  const result = (options.schema ?? (zEnricherConfig as unknown as z.ZodType<T>)).safeParse(value, oneShot());
  // A missing variable also makes its field empty; report the variable, not the empty string.
  const envPaths = new Set(envIssues.map((issue) => issue.path));
  const schemaIssues = result.success ? [] : validationIssues(result.error, { input: value }).filter((issue) => !envPaths.has(issue.path));
  const issues: ValidationIssue[] = [...envIssues, ...schemaIssues];
  if (issues.length > 0 || !result.success) {
    const where = options.source === undefined ? 'configuration' : `configuration ${options.source}`;
    throw new ValidationError('X_CONFIG_INVALID', `Invalid ${where} (${plural(issues.length, 'problem')}):`, issues);
  }
  return result.data;
}

export interface LoadConfigFileOptions<T = EnricherConfig> {
  /** The schema to validate with (see `ParseConfigOptions.schema`). Default: `zEnricherConfig`. */
  schema?: z.ZodType<T>;
  /** Real environment; wins over `.env`. Default: `process.env`. */
  env?: Env;
  /**
   * A dotenv file to read variables from (they never override `env`). Default: `.env` next to
   * the config file, if it exists. `false` reads none.
   */
  envFile?: string | false;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`;
    throw new XEnrichError('X_CONFIG_NOT_FOUND', `${what} ${path} ${reason}.`, { cause: error, details: { path } });
  }
}

/** The largest config text parsed: configs are a few KB; a multi-megabyte one is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 1_048_576;

type ParseProblem = { line: number; column: number; message: string };

function parseError(source: string, errors: ParseProblem[]): XEnrichError {
  const lines = errors.map((error) => `  - line ${error.line}, column ${error.column}: ${error.message}`);
  const first = errors[0]!;
  return new XEnrichError('X_CONFIG_PARSE', [`Cannot parse ${source} at line ${first.line}, column ${first.column}:`, ...lines].join('\n'), {
    details: { source, line: first.line, column: first.column, errors },
  });
}

/**
 * Duplicate keys, found with one Set per map: linear in the document. (yaml's own `uniqueKeys`
 * compares every key with every earlier one, which made a 1.6 MB map take 15 s.)
 */
function duplicateKeys(document: Document.Parsed, lineCounter: LineCounter): ParseProblem[] {
  const problems: ParseProblem[] = [];
  visit(document, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        // Only scalar keys can be compared cheaply; a config has no other kind. `<<` merges may repeat.
        if (!isScalar(key)) continue;
        const value = key.value;
        if (value === MERGE_KEY && key.source === MERGE_KEY) continue;
        if (seen.has(value)) {
          const { line, col } = lineCounter.linePos(key.range?.[0] ?? 0);
          problems.push({ line, column: col, message: `Map keys must be unique; "${String(value).slice(0, 80)}" is repeated` });
        } else {
          seen.add(value);
        }
      }
    },
  });
  return problems;
}

const MERGE_KEY = '<<';

/**
 * Parses YAML (JSON is valid YAML) and reports syntax errors with line and column, never quoting
 * the source line. YAML merge keys (`<<: *defaults`) are accepted. Everything that makes a text
 * unusable is X_CONFIG_PARSE, fast: a text over MAX_CONFIG_BYTES, duplicate keys (found in
 * linear time), and alias bombs (more than 100 alias expansions).
 */
export function parseConfigText(text: string, source = 'config'): unknown {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) {
    throw new XEnrichError('X_CONFIG_PARSE', `Cannot parse ${source}: it is ${bytes} bytes, more than the ${MAX_CONFIG_BYTES} a config may have.`, { details: { source, bytes } });
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: false, merge: true, lineCounter });
  const errors: ParseProblem[] = document.errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return { line, column: col, message: error.message };
  });
  if (errors.length === 0) errors.push(...duplicateKeys(document, lineCounter));
  if (errors.length > 0) throw parseError(source, errors);
  try {
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // yaml throws a ReferenceError for an alias bomb ("Excessive alias count"); it is the text's fault.
    throw new XEnrichError('X_CONFIG_PARSE', `Cannot parse ${source}: ${(error as Error).message} (aliases expand to too much data).`, { cause: error, details: { source } });
  }
}

/**
 * Loads and validates a YAML or JSON config file, with `${VAR}` interpolation from `env` and
 * a `.env` file (see `envFile`).
 *
 * @throws XEnrichError `X_CONFIG_NOT_FOUND` (file or explicit envFile missing),
 *   `X_CONFIG_PARSE` (syntax, with line and column), ValidationError `X_CONFIG_INVALID`.
 */
export async function loadConfigFile<T = EnricherConfig>(path: string, options: LoadConfigFileOptions<T> = {}): Promise<T> {
  const absolute = resolve(path);
  const text = await readText(absolute, 'Config file');
  const env = { ...(await readEnvFile(absolute, options.envFile)), ...(options.env ?? process.env) };
  return parseConfig<T>(parseConfigText(text, path), { env, source: path, schema: options.schema });
}

async function readEnvFile(configPath: string, envFile: string | false | undefined): Promise<Record<string, string>> {
  if (envFile === false) return {};
  if (envFile !== undefined) return parseDotenv(await readText(resolve(envFile), 'Env file'));
  try {
    return parseDotenv(await readFile(resolve(dirname(configPath), '.env'), 'utf8'));
  } catch {
    return {}; // the default .env is optional
  }
}

/**
 * The JSON Schema of the config file (input side: durations are strings like `10s`), for
 * editor completion (`# yaml-language-server: $schema=...`). Secret fields are `writeOnly`.
 * Valid under strict validators (ajv's strict mode): see configSectionJsonSchema.
 * Pass the loaded providers to include each instance's own `options` schema.
 */
export function configJsonSchema(loadedProviders: readonly { readonly name: string; readonly manifest: Pick<ProviderManifest, 'optionsSchema' | 'displayName' | 'packageName'> }[] = []): Record<string, unknown> {
  const schema = configSectionJsonSchema(zEnricherConfig);
  const providers = schema.properties?.providers;
  const instance = providers?.additionalProperties;
  if (providers && instance && typeof instance === 'object' && loadedProviders.length > 0) {
    providers.properties = Object.fromEntries(
      loadedProviders.map((provider) => {
        let options: JsonSchema = {};
        try {
          options = configSectionJsonSchema(provider.manifest.optionsSchema);
          delete options.$schema;
        } catch {
          // A schema zod cannot express (rare) keeps the generic options object.
        }
        const description = `${provider.manifest.displayName} (${provider.manifest.packageName}) options.`;
        return [provider.name, { ...instance, properties: { ...instance.properties, options: { description, ...options } } }];
      }),
    );
  }
  return { ...schema, title: 'x-enrich configuration' };
}
