/** What STIX 2.1 requires of each object type we emit (section 3.1 common properties and each type's own). */
const REQUIRED: Record<string, string[]> = {
  identity: ['type', 'spec_version', 'id', 'created', 'modified', 'name'],
  indicator: ['type', 'spec_version', 'id', 'created', 'modified', 'pattern', 'pattern_type', 'valid_from'],
  malware: ['type', 'spec_version', 'id', 'created', 'modified', 'is_family'],
  note: ['type', 'spec_version', 'id', 'created', 'modified', 'content', 'object_refs'],
  'attack-pattern': ['type', 'spec_version', 'id', 'created', 'modified', 'name'],
  relationship: ['type', 'spec_version', 'id', 'created', 'modified', 'relationship_type', 'source_ref', 'target_ref'],
  'ipv4-addr': ['type', 'id', 'value'],
  'domain-name': ['type', 'id', 'value'],
  url: ['type', 'id', 'value'],
  file: ['type', 'id', 'hashes'],
};
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Checks what STIX 2.1 requires of every object; returns the problems found. */
export function stixProblems(objects: ReadonlyArray<Record<string, unknown> & { type: string; id: string }>): string[] {
  const problems: string[] = [];
  const ids = new Set(objects.map((o) => o.id));
  for (const object of objects) {
    const required = REQUIRED[object.type];
    if (!required) problems.push(`${object.id}: unexpected type ${object.type}`);
    for (const property of required ?? []) if (object[property] === undefined) problems.push(`${object.id}: missing ${property}`);
    if (!new RegExp(`^${object.type}--[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).test(object.id)) problems.push(`${object.id}: bad id`);
    if (object.spec_version !== '2.1') problems.push(`${object.id}: spec_version`);
    for (const property of ['created', 'modified', 'valid_from']) {
      if (object[property] !== undefined && !TIMESTAMP.test(String(object[property]))) problems.push(`${object.id}: ${property} is not a STIX timestamp`);
    }
    // Every reference property (`*_ref`, `*_refs`, whatever the type) must resolve inside the bundle.
    for (const [property, value] of Object.entries(object)) {
      if (property.endsWith('_ref') && !ids.has(String(value))) problems.push(`${object.id}: ${property} points outside the bundle`);
      if (!property.endsWith('_refs')) continue;
      if (!Array.isArray(value) || !value.length) problems.push(`${object.id}: ${property} is not a non-empty list`);
      else for (const ref of value) if (!ids.has(String(ref))) problems.push(`${object.id}: ${property} has ${String(ref)}, outside the bundle`);
    }
    // The malware object's rules: a family must be named; sample_refs point only at files and artifacts.
    if (object.type === 'malware' && object.is_family === true && !object.name) problems.push(`${object.id}: a malware family without a name`);
    if (Array.isArray(object.sample_refs) && object.sample_refs.some((ref) => !/^(file|artifact)--/.test(String(ref)))) problems.push(`${object.id}: sample_refs must be files or artifacts`);
  }
  if (ids.size !== objects.length) problems.push('duplicate ids');
  return problems;
}

