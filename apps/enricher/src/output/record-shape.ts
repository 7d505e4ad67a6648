/**
 * The shape of a result record as the engine writes it, for the serializers that write such a
 * record from a template (output/jsonl.ts for the CLI, server/serialize.ts for `serve`): a
 * record with exactly these keys in this order is templated; anything else is JSON.stringify's.
 */

/** A result record's fields in the order the engine writes them (packages/core records.ts). */
export const RECORD_KEYS: readonly string[] = ['observable', 'input', 'provider', 'status', 'verdict', 'confidence', 'reasons', 'extracted', 'entities', 'error', 'cache', 'fetchedAt'];
/** A record's `cache` fields, in the engine's order. */
export const CACHE_KEYS: readonly string[] = ['hit', 'storedAt', 'ageSeconds'];

/** Whether `value`'s own enumerable keys are exactly `keys`, in that order (JSON.stringify's order). */
export function hasKeys(value: object, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  if (own.length !== keys.length) return false;
  for (let i = 0; i < keys.length; i++) if (own[i] !== keys[i]) return false;
  return true;
}
