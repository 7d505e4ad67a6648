import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { appConfigJsonSchema } from '../src/commands/config.js';
import { EXAMPLES_DIR } from './helpers/cli.js';

/**
 * `x-enrich config schema` as strict validators see it: ajv in strict mode (what editors' YAML
 * servers and CI checks run, and the strictest common reader), and every example config
 * validated against it through the modeline the docs describe.
 */
const MODELINE = '# yaml-language-server: $schema=./x-enrich.schema.json';
const schema = appConfigJsonSchema();
// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext resolution.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
/** ajv in strict mode, with the standard formats (`uri`...) a JSON Schema validator knows. */
const strictAjv = () => addFormats(new Ajv2020({ strict: true, allErrors: true }));
const validate = strictAjv().compile(schema);
const examples = readdirSync(EXAMPLES_DIR).filter((name) => /^x-enrich\..*\.ya?ml$/.test(name));

describe('the config JSON Schema', () => {
  it('compiles under ajv strict mode (no union types, no unknown keywords)', () => {
    expect(() => strictAjv().compile(schema)).not.toThrow();
  });

  it('is what examples/x-enrich.schema.json holds (regenerate: x-enrich config schema > examples/x-enrich.schema.json)', () => {
    expect(readFileSync(join(EXAMPLES_DIR, 'x-enrich.schema.json'), 'utf8')).toBe(JSON.stringify(schema, null, 2) + '\n');
  });

  it('keeps secrets marked with the standard writeOnly annotation', () => {
    const server = (schema as { properties: { server: { properties: { token: Record<string, unknown> } } } }).properties.server;
    expect(server.properties.token).toMatchObject({ writeOnly: true });
  });

  it('refuses what the loader refuses: an unknown key, a bad duration type', () => {
    expect(validate({ providers: {}, concurrencyy: 3 })).toBe(false);
    expect(validate.errors).toContainEqual(expect.objectContaining({ keyword: 'additionalProperties', params: { additionalProperty: 'concurrencyy' } }));
    expect(validate({ providers: { vt: { use: 'x', resilience: { timeout: true } } } })).toBe(false);
    expect(validate.errors?.map((error) => error.instancePath)).toContain('/providers/vt/resilience/timeout');
    expect(validate({ providers: { vt: { use: 'x', resilience: { timeout: '10s' } } } })).toBe(true);
  });
});

describe.each(examples)('examples/%s', (name) => {
  const text = readFileSync(join(EXAMPLES_DIR, name), 'utf8');

  it('starts with the yaml-language-server modeline pointing at the schema', () => {
    expect(text.split('\n')[0]).toBe(MODELINE);
  });

  it('validates against the schema', () => {
    const valid = validate(parseYaml(text));
    expect(valid ? [] : validate.errors).toEqual([]);
  });
});
