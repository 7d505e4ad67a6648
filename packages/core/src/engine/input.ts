import type { XEnrichError } from '../contract/x-enrich-error.js';
import type { Observable } from '../contract/observable-type.js';
import { parseObservable, tryParseObservable } from '../observable/parse-observable.js';
import type { SpecialAddress } from '../observable/special-address.js';

/**
 * One engine input after parsing. The enricher memoizes parsed inputs, so what every lookup of a
 * repeated input would compute again is kept here, once per input: `keys`, its cache key per
 * instance (by the instance's slot), and `special`, its special-address check (null: none;
 * undefined: not checked yet).
 */
export type ParsedInput =
  | { ok: true; observable: Observable; input: string; keys: Array<string | undefined> | undefined; special: SpecialAddress | null | undefined }
  | { ok: false; input: string; error: XEnrichError };

/** Parses a raw string (type detection, refang, normalization) or validates an `{ type, value }` object. */
export function toParsedInput(raw: string | Observable): ParsedInput {
  try {
    // One object per input: `tryParseObservable` would spread the parse into another first.
    const { observable, input } = parseObservable(raw);
    return { ok: true, observable, input, keys: undefined, special: undefined };
  } catch {
    // The rare invalid input: `tryParseObservable` says why, as the enricher always reported it.
    const parsed = tryParseObservable(raw);
    return parsed.ok ? { ok: true, observable: parsed.observable, input: parsed.input, keys: undefined, special: undefined } : parsed;
  }
}
