import * as z from 'zod';

/** A JSON Schema object, loosely typed: the generators below only move keywords around. */
export interface JsonSchemaObject {
  $schema?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchemaObject>;
  additionalProperties?: JsonSchemaObject | boolean;
  [keyword: string]: unknown;
}

// Which keywords constrain which JSON type, so a split `type` takes its own keywords along.
const KEYWORDS_BY_TYPE: Record<string, readonly string[]> = {
  string: ['minLength', 'maxLength', 'pattern', 'format', 'contentEncoding', 'contentMediaType'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  array: ['items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems', 'contains', 'minContains', 'maxContains', 'unevaluatedItems'],
  object: ['properties', 'patternProperties', 'additionalProperties', 'required', 'propertyNames', 'minProperties', 'maxProperties', 'dependentRequired', 'dependentSchemas', 'unevaluatedProperties'],
};

/**
 * Rewrites one node zod generated into the form strict validators accept (ajv's strict mode,
 * which editors' validators and CI checks use):
 * - a union type (`"type": ["string", "number"]`, zod's output for `z.union` of primitives,
 *   e.g. durations) becomes `anyOf` of one type each, each with the keywords of its type;
 * - the `x-secret` marker zod copies from `.meta()` is left out: it is not a JSON Schema
 *   keyword, strict validators refuse unknown keywords, and the standard `writeOnly: true`
 *   beside it already says "secret" to editors and tools (core reads the marker from the zod
 *   schema, never from this JSON).
 */
function strictNode(node: JsonSchemaObject): void {
  delete node['x-secret'];
  if (!Array.isArray(node.type)) return;
  const types = node.type;
  delete node.type;
  const branches = types.map((type) => {
    const branch: JsonSchemaObject = { type };
    for (const keyword of KEYWORDS_BY_TYPE[type] ?? []) if (keyword in node) branch[keyword] = node[keyword];
    return branch;
  });
  for (const keyword of new Set(types.flatMap((type) => KEYWORDS_BY_TYPE[type] ?? []))) delete node[keyword];
  node.anyOf = branches;
}

/**
 * The JSON Schema (draft 2020-12) of a config section, the input side (what a file may say:
 * durations as `10s` or a number), for editor completion and for validating config files.
 * Compiles under ajv's strict mode (a test checks it, and the examples against it).
 */
export function configSectionJsonSchema(schema: z.ZodType): JsonSchemaObject {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaObject;
  // After generation, not in zod's `override` hook: zod collapses unions of primitives into a
  // type list after that hook ran.
  walkSchemas(json, strictNode);
  return json;
}

const SUBSCHEMA = ['items', 'additionalProperties', 'not', 'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'if', 'then', 'else'];
const SUBSCHEMA_LISTS = ['anyOf', 'allOf', 'oneOf', 'prefixItems'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const isSchema = (value: unknown): value is JsonSchemaObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Calls `visit` on every schema in the tree (only schema positions: never inside `default` or `examples`). */
function walkSchemas(node: JsonSchemaObject, visit: (node: JsonSchemaObject) => void): void {
  visit(node);
  for (const keyword of SUBSCHEMA) if (isSchema(node[keyword])) walkSchemas(node[keyword], visit);
  for (const keyword of SUBSCHEMA_LISTS) if (Array.isArray(node[keyword])) for (const sub of node[keyword] as unknown[]) if (isSchema(sub)) walkSchemas(sub, visit);
  for (const keyword of SUBSCHEMA_MAPS) if (isSchema(node[keyword])) for (const sub of Object.values(node[keyword])) if (isSchema(sub)) walkSchemas(sub, visit);
}
