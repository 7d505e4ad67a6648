import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isValidationError, isXEnrichError, type ValidationError } from '../contract/x-enrich-error.js';
import { configJsonSchema, loadConfigFile, MAX_CONFIG_BYTES, parseConfig, parseConfigText } from './load-config.js';
import { interpolateEnv } from './interpolate.js';
import { zEnricherConfig } from './config-schema.js';
import { validationIssues } from './validation-issues.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x-enrich-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<ValidationError> {
  try {
    await promise;
  } catch (error) {
    if (!isXEnrichError(error)) throw error;
    return error as ValidationError;
  }
  throw new Error('expected a rejection');
}

const YAML_CONFIG = `
providers:
  vt3:
    use: "@x/provider-virustotal-v3"
    options: { apiKey: "\${VT_KEY}", baseUrl: "\${VT_URL:-https://www.virustotal.com/api/v3}" }
    rateLimit: [{ requests: 4, per: 1m }, { requests: 500, per: 1d }]
    cache: { ttl: { ipv4: 1h }, notFoundTtl: 10m }
    resilience: { timeout: 10s, retry: { maxAttempts: 3 } }
cache: { store: memory }
`;

describe('loadConfigFile', () => {
  it('loads YAML with ${VAR} and ${VAR:-default} from the environment', async () => {
    const path = await write('x-enrich.yaml', YAML_CONFIG);
    const config = await loadConfigFile(path, { env: { VT_KEY: 'k-123' }, envFile: false });
    expect(config.providers.vt3!.options).toEqual({ apiKey: 'k-123', baseUrl: 'https://www.virustotal.com/api/v3' });
    expect(config.providers.vt3!.rateLimit).toEqual([{ requests: 4, perMs: 60_000 }, { requests: 500, perMs: 86_400_000 }]);
    expect(config.providers.vt3!.resilience.timeout).toBe(10_000);
  });

  it('loads JSON', async () => {
    const path = await write('x-enrich.json', JSON.stringify({ providers: { a: { use: './a', options: { k: '${A:-1}' } } } }));
    expect((await loadConfigFile(path, { env: {} })).providers.a!.options).toEqual({ k: '1' });
  });

  it('reads .env next to the config without overriding the real environment', async () => {
    const path = await write('x-enrich.yaml', 'providers:\n  a: { use: "./a", options: { key: "${KEY}", other: "${OTHER}" } }\n');
    await write('.env', 'KEY=from-dotenv\nOTHER=dotenv-other\n');
    const config = await loadConfigFile(path, { env: { KEY: 'from-env' } });
    expect(config.providers.a!.options).toEqual({ key: 'from-env', other: 'dotenv-other' });
  });

  it('reads an explicit envFile, and says so when it is missing', async () => {
    const path = await write('x-enrich.yaml', 'providers:\n  a: { use: "./a", options: { key: "${KEY}" } }\n');
    const envFile = await write('secrets.env', 'KEY=explicit\n');
    expect((await loadConfigFile(path, { env: {}, envFile })).providers.a!.options).toEqual({ key: 'explicit' });
    const error = await rejection(loadConfigFile(path, { env: {}, envFile: join(dir, 'nope.env') }));
    expect(error.code).toBe('X_CONFIG_NOT_FOUND');
  });

  it('reports a missing variable together with every other problem, by dot path', async () => {
    const path = await write('x-enrich.yaml', YAML_CONFIG.replace('maxAttempts: 3', 'maxAttempts: -1').replace('store: memory', 'store: tape'));
    const error = await rejection(loadConfigFile(path, { env: {}, envFile: false }));
    expect(isValidationError(error)).toBe(true);
    expect(error.code).toBe('X_CONFIG_INVALID');
    expect(error.issues.map((issue) => issue.path)).toEqual(['providers.vt3.options.apiKey', 'providers.vt3.resilience.retry.maxAttempts', 'cache.store']);
    expect(error.message).toContain('environment variable VT_KEY is not set (X_CONFIG_ENV_MISSING)');
    expect(error.message.split('\n')[0]).toBe(`Invalid configuration ${path} (3 problems):`);
  });

  it('fails with X_CONFIG_NOT_FOUND for a missing file', async () => {
    const error = await rejection(loadConfigFile(join(dir, 'missing.yaml')));
    expect(error.code).toBe('X_CONFIG_NOT_FOUND');
    expect(error.message).toContain('missing.yaml does not exist');
  });

  it('fails with X_CONFIG_PARSE and the line and column, without echoing the source line', async () => {
    const path = await write('bad.yaml', 'providers:\n  vt3:\n    options: { apiKey: "super-secret-key"\n  other: 1\n');
    const error = await rejection(loadConfigFile(path, { env: {} }));
    expect(error.code).toBe('X_CONFIG_PARSE');
    expect(error.message).toMatch(/at line \d+, column \d+/);
    expect(error.details).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
    expect(error.message).not.toContain('super-secret-key');
  });

  it('reports duplicate keys as a syntax problem', async () => {
    const path = await write('dup.json', '{"providers": {}, "providers": {}}');
    expect((await rejection(loadConfigFile(path, { env: {} }))).code).toBe('X_CONFIG_PARSE');
  });
});

describe('parseConfig', () => {
  it('supports $${VAR} for a literal and empty-var defaults', () => {
    const config = parseConfig({ providers: { a: { use: './a', options: { literal: '$${HOME}', fallback: '${EMPTY:-x}' } } } }, { env: { EMPTY: '' } });
    expect(config.providers.a!.options).toEqual({ literal: '${HOME}', fallback: 'x' });
  });

  it('never quotes option values in its messages', () => {
    try {
      parseConfig({ providers: { a: { use: './a', options: 'k-very-secret', extra: 'k-very-secret' } } }, { env: {} });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('k-very-secret');
    }
  });
});

describe("parseConfig: zod's interpreted path (one parse, no compiled parser)", () => {
  const env = { VT_KEY: 'k' };
  it('gives what the compiled parser gives, defaults and durations included', () => {
    const input = parseConfigText(YAML_CONFIG);
    const { value } = interpolateEnv(input, env);
    expect(parseConfig(input, { env })).toEqual(zEnricherConfig.parse(value));
  });

  it('reports the problems the compiled parser finds, in the same order', () => {
    const input = { providers: { vt3: { use: '', resilience: { timeout: 'soon', retry: { maxAttempts: 99 } }, extra: 1 } }, concurrency: 0, cache: { store: 'disk' } };
    const compiled = zEnricherConfig.safeParse(input);
    expect(compiled.success).toBe(false);
    const error = (() => {
      try {
        parseConfig(input, { env });
      } catch (caught) {
        return caught as ValidationError;
      }
      throw new Error('expected X_CONFIG_INVALID');
    })();
    expect(isValidationError(error)).toBe(true);
    expect(error.issues).toEqual(validationIssues(compiled.error!, { input }));
  });
});

describe('configJsonSchema', () => {
  it('describes the input side (durations as strings) for editors', () => {
    const schema = configJsonSchema() as { properties: Record<string, { additionalProperties?: { properties: Record<string, { type?: unknown; description?: string }> } }> };
    const instance = schema.properties.providers!.additionalProperties!;
    expect(instance.properties.maxRateLimitWait).toMatchObject({ anyOf: [{ type: 'string' }, { type: 'number' }] });
    expect(instance.properties.use!.description).toContain('Plugin package name');
  });
});

describe('a host schema that extends the config', () => {
  it('validates the host section with the rest and reports all problems at once', async () => {
    const { z } = await import('zod');
    const { zEnricherConfig } = await import('./config-schema.js');
    const schema = zEnricherConfig.extend({ server: z.strictObject({ port: z.number().int().max(65_535).default(8080) }).default({ port: 8080 }) });
    const path = await write('host.yaml', 'providers: {}\nserver: { port: 99999 }\nconcurrency: 0\n');
    const error = await rejection(loadConfigFile(path, { env: {}, schema }));
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['concurrency', 'server.port']);
    expect(parseConfig({ providers: {} }, { env: {}, schema }).server).toEqual({ port: 8080 });
  });
});

describe('hostile config text', () => {
  it('reports an alias bomb as X_CONFIG_PARSE, not as a bug', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');
    expect(() => parseConfigText(bomb, 'bomb.yaml')).toThrow(expect.objectContaining({ code: 'X_CONFIG_PARSE', message: expect.stringMatching(/alias/i) }));
  });

  it('finds duplicate keys in a large map in linear time, with their line', () => {
    // 20,000 keys (yaml's own uniqueKeys check compares every key with every earlier one: 2 x 10^8 comparisons).
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`);
    keys.push('k17: again');
    expect(() => parseConfigText(keys.join('\n'), 'big.yaml')).toThrow(expect.objectContaining({ code: 'X_CONFIG_PARSE', details: expect.objectContaining({ line: 20_001 }) }));
    expect(parseConfigText('a: 1\nb: { c: 1, d: 2 }\ne: [{ f: 1 }, { f: 2 }]\n')).toEqual({ a: 1, b: { c: 1, d: 2 }, e: [{ f: 1 }, { f: 2 }] });
    expect(() => parseConfigText('a: 1\nb:\n  c: 1\n  c: 2\n')).toThrow(expect.objectContaining({ code: 'X_CONFIG_PARSE', details: expect.objectContaining({ line: 4 }) }));
  });

  it('refuses a text over 1 MiB with X_CONFIG_PARSE before parsing it', () => {
    expect(() => parseConfigText(`x: "${'a'.repeat(MAX_CONFIG_BYTES)}"`, 'huge.yaml')).toThrow(expect.objectContaining({ code: 'X_CONFIG_PARSE', message: expect.stringMatching(/more than the 1048576/) }));
  });

  it('accepts YAML merge keys', () => {
    const text = 'defaults: &d { timeout: 5s, retry: false }\nvt3: { <<: *d, timeout: 9s }\n';
    expect(parseConfigText(text)).toMatchObject({ vt3: { timeout: '9s', retry: false } });
  });

  it('interpolates only the environment\'s own variables, never Object.prototype members', () => {
    const env = { REAL: 'yes' };
    const result = interpolateEnv({ a: '${constructor}', b: '${__proto__}', c: '${toString:-fallback}', d: '${REAL}' }, env);
    expect(result.value).toEqual({ a: '', b: '', c: 'fallback', d: 'yes' });
    expect(result.issues.map((issue) => issue.path)).toEqual(['a', 'b']);
  });
});
