/**
 * The JSON of a `POST /v1/enrich` answer, byte for byte what `JSON.stringify` makes of it, but
 * cheaper when lookups come from the cache: a record's observable, provider and the outcome parts
 * a cache entry holds (reasons, extracted, entities) are the very same objects on every hit, so
 * their JSON is made once per object and reused (a WeakMap: it goes with the object). On a cached
 * lookup, serialising the answer was the largest single cost of the request (docs/performance.md).
 *
 * This relies on those objects not changing once a record holds them, which the engine already
 * relies on: the cache hands the same outcome to every caller.
 */
const SHARED_FIELDS = new Set(['observable', 'provider', 'reasons', 'extracted', 'entities']);

export function createAnswerSerializer(): (answer: unknown) => string {
  const fragments = new WeakMap<object, string>();

  const shared = (value: object): string => {
    let json = fragments.get(value);
    if (json === undefined) {
      json = JSON.stringify(value);
      fragments.set(value, json);
    }
    return json;
  };

  const record = (value: unknown): string => {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || 'toJSON' in value) return JSON.stringify(value) ?? 'null';
    let out = '{';
    for (const key of Object.keys(value)) {
      const field = (value as Record<string, unknown>)[key];
      const json = SHARED_FIELDS.has(key) && field !== null && typeof field === 'object' ? shared(field) : JSON.stringify(field);
      // JSON.stringify leaves out properties whose value has no JSON (undefined, functions).
      if (json === undefined) continue;
      out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + json;
    }
    return out + '}';
  };

  return (answer) => {
    if (answer === null || typeof answer !== 'object' || Array.isArray(answer) || 'toJSON' in answer) return JSON.stringify(answer);
    let out = '{';
    for (const key of Object.keys(answer)) {
      const value = (answer as Record<string, unknown>)[key];
      const json = key === 'records' && Array.isArray(value) ? `[${value.map(record).join(',')}]` : JSON.stringify(value);
      if (json === undefined) continue;
      out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + json;
    }
    return out + '}';
  };
}
