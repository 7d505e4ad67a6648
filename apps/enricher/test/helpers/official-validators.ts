import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { stixPatternProblem } from './stix-pattern.js';

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext resolution.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const VENDOR = fileURLToPath(new URL('../vendor/stix2-json-schemas/', import.meta.url));
const RESULT_SCHEMA = fileURLToPath(new URL('../../../../docs/reference/result-record.schema.json', import.meta.url));

const errorsText = (errors: ErrorObject[] | null | undefined): string[] => (errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);

function readJsonTree(dir: string): Array<Record<string, unknown>> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return readJsonTree(path);
    return entry.name.endsWith('.json') ? [JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>] : [];
  });
}

let stix: { bundle: ValidateFunction; listed: Set<string>; byType: (type: string) => ValidateFunction | undefined } | undefined;
const SCHEMA_BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';

/**
 * OASIS's STIX 2.1 JSON schemas (vendored, test/vendor/stix2-json-schemas), through ajv with
 * the formats they use (`uri` is RFC 3986, `date-time` RFC 3339). Not strict mode: OASIS's files
 * use keywords ajv's strict mode frowns on (`title` beside `$ref`, unknown formats are none).
 */
export function stixSchemaErrors(bundle: { objects?: ReadonlyArray<{ type?: unknown; id?: unknown }> }): string[] {
  if (!stix) {
    // unicodeRegExp off: OASIS's patterns are ECMAScript regexes without the `u` flag (`\\-` outside a class).
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true, unicodeRegExp: false, logger: false });
    addFormats(ajv);
    for (const schema of readJsonTree(VENDOR)) ajv.addSchema(schema);
    const byType = (type: string) => ['sdos', 'sros', 'observables', 'common'].map((dir) => ajv.getSchema(`${SCHEMA_BASE}${dir}/${type}.json`)).find(Boolean);
    const bundleSchema = readFileSync(join(VENDOR, 'common', 'bundle.json'), 'utf8');
    const listed = new Set([...bundleSchema.matchAll(/"\$ref": "\.\.\/(?:sdos|sros|observables|common)\/([a-z0-9-]+)\.json"/g)].map((match) => match[1]!));
    stix = { bundle: ajv.getSchema(`${SCHEMA_BASE}common/bundle.json`)!, listed, byType };
  }
  const { byType, listed, bundle: validateBundle } = stix;
  // Each object against its own type's schema, as OASIS's stix2-validator does. (Against the
  // bundle's oneOf over every type, one object's problem reads as a mismatch with thirty types.)
  const problems = (bundle.objects ?? []).flatMap((object, index) => {
    const validate = byType(String(object.type));
    if (!validate) return [`/objects/${index} (${String(object.id)}): no OASIS schema for type ${String(object.type)}`];
    const where = `/objects/${index} (${String(object.id)})`;
    return validate(object) ? [] : errorsText(validate.errors).map((error) => `${where}${error}`);
  });
  // Then the envelope against bundle.json. Its object list omits five 2.1 SDOs (note, opinion,
  // grouping, incident, location: the same slip as OASIS's issue #133 for infrastructure), so
  // such an object lands in the custom-object branch, whose ambiguous oneOf (core or
  // cyber-observable core) refuses every SDO. Those were validated by their own schema above.
  const envelope = { ...bundle, objects: (bundle.objects ?? []).filter((object) => listed.has(String(object.type))) };
  return validateBundle(envelope) ? problems : [...problems, ...errorsText(validateBundle.errors)];
}

/** Every `pattern` of a `pattern_type: stix` indicator, checked against OASIS's pattern grammar. */
export function stixPatternProblems(objects: ReadonlyArray<Record<string, unknown>>): string[] {
  return objects.flatMap((object) => {
    if (object.type !== 'indicator' || object.pattern_type !== 'stix') return [];
    const problem = stixPatternProblem(String(object.pattern));
    return problem ? [`${String(object.id)}: pattern ${JSON.stringify(object.pattern)}: ${problem}`] : [];
  });
}

let resultValidators: { record: ValidateFunction; summary: ValidateFunction } | undefined;

/**
 * The project's published result schema (docs/reference/result-record.schema.json), compiled by
 * ajv in strict mode: what a host platform validating x-enrich's JSON output would run.
 */
export function resultSchemaErrors(kind: 'record' | 'summary', value: unknown): string[] {
  if (!resultValidators) {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    const schema = JSON.parse(readFileSync(RESULT_SCHEMA, 'utf8')) as { $id: string };
    ajv.addSchema(schema);
    resultValidators = { record: ajv.getSchema(schema.$id)!, summary: ajv.getSchema(`${schema.$id}#/$defs/ObservableSummary`)! };
  }
  const validate = resultValidators[kind];
  return validate(value) ? [] : errorsText(validate.errors);
}
