/**
 * `{{name}}` templates, compiled once when the config loads: a template that names a variable
 * the provider will not have at lookup time is refused then, not at the first lookup.
 *
 * Variables: `value` (the normalized observable), `type` (its type), and `fields.<name>` (a field
 * extracted from an earlier step's response). Nothing else: templates cannot reach secrets,
 * the environment or JavaScript internals.
 */

export interface TemplateVariables {
  value: string;
  type: string;
  fields: Readonly<Record<string, unknown>>;
}

export type Template = (variables: TemplateVariables) => string;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const FIELD = /^fields\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** The variable names a template uses (`value`, `type`, `fields.score`). */
export function templateVariables(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1]!);
}

/**
 * Which variables of `text` are unknown, given the fields available at that point.
 * The options schema reports them as config errors.
 */
export function unknownVariables(text: string, knownFields: ReadonlySet<string>): string[] {
  return templateVariables(text).filter((name) => {
    if (name === 'value' || name === 'type') return false;
    const field = FIELD.exec(name);
    return !(field && knownFields.has(field[1]!));
  });
}

function render(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Compiles a template (already checked by `unknownVariables`) into a function of the variables. */
export function compileTemplate(text: string): Template {
  const parts: Array<string | ((v: TemplateVariables) => unknown)> = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, match.index));
    const name = match[1]!;
    const field = FIELD.exec(name);
    if (name === 'value') parts.push((v) => v.value);
    else if (name === 'type') parts.push((v) => v.type);
    else if (field) {
      const key = field[1]!;
      // Own properties only: a field named like an Object.prototype member reads nothing.
      parts.push((v) => (Object.hasOwn(v.fields, key) ? v.fields[key] : undefined));
    } else throw new Error(`unknown template variable {{${name}}}`);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  if (parts.length === 1) {
    const constant = parts[0] as string;
    return () => constant;
  }
  return (variables) => parts.map((part) => (typeof part === 'string' ? part : render(part(variables)))).join('');
}

/**
 * Refuses characters that would break a header (CR, LF, NUL and other controls): a value that
 * came from an observable or a response must not be able to add a header or split a request.
 */
export function assertHeaderSafe(name: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new Error(`header ${name} would contain a control character (CR, LF or similar); refused`);
  }
  return value;
}
