/**
 * Named fields taken from a response with JMESPath (https://jmespath.org), the query language of
 * the AWS and Azure CLIs, through the JMESPath Community's TypeScript implementation: a
 * maintained library with a published specification and compliance tests, instead of a
 * hand-written path parser. Each field has a type; a value of another type is a clear error.
 */
import { compile, TreeInterpreter, type JSONValue } from '@jmespath-community/jmespath';

type ExpressionNode = ReturnType<typeof compile>;

export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'list', 'date', 'object', 'any'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface CompiledPath {
  readonly source: string;
  readonly ast: ExpressionNode;
}

/** Compiles a JMESPath expression; throws with the library's message when it is not one. */
export function compilePath(source: string): CompiledPath {
  return { source, ast: compile(source) };
}

export function searchPath(path: CompiledPath, data: unknown): unknown {
  return TreeInterpreter.search(path.ast, data as JSONValue);
}

/** A value that does not fit its field's declared type. */
export class FieldTypeError extends Error {}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return `${Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

/**
 * The value in its declared type, or null when the response does not have it (JMESPath's null).
 * `date` accepts ISO 8601 text and Unix seconds, and gives ISO 8601; `integer` accepts only
 * whole numbers; `list` wraps nothing (a single value is a type error, not a one-item list).
 */
export function coerce(field: string, type: FieldType, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return null;
  const fail = (): never => {
    throw new FieldTypeError(`field ${field} (${path}) should be ${type === 'list' || type === 'integer' ? `a ${type}` : `a ${type}`}, got ${describe(value)}`);
  };
  switch (type) {
    case 'any':
      return value;
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : fail();
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      return fail();
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value);
      return fail();
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      return fail();
    case 'list':
      return Array.isArray(value) ? value : fail();
    case 'object':
      return typeof value === 'object' && !Array.isArray(value) ? value : fail();
    case 'date': {
      if (typeof value === 'number' && Number.isFinite(value)) return new Date(value * 1000).toISOString();
      if (typeof value === 'string') {
        // `2024-05-01 12:00:00` (abuse.ch, VirusTotal v2) is UTC without the T and Z.
        const text = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d( UTC)?$/.test(value) ? `${value.slice(0, 19).replace(' ', 'T')}Z` : value;
        const time = Date.parse(text);
        if (!Number.isNaN(time)) return new Date(time).toISOString();
      }
      return fail();
    }
  }
}
