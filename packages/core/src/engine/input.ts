import type { XEnrichError } from '../contract/x-enrich-error.js';
import type { Observable } from '../contract/observable-type.js';
import { tryParseObservable } from '../observable/parse-observable.js';

/** One engine input after parsing. */
export type ParsedInput =
  | { ok: true; observable: Observable; input: string }
  | { ok: false; input: string; error: XEnrichError };

/** Parses a raw string (type detection, refang, normalization) or validates an `{ type, value }` object. */
export function toParsedInput(raw: string | Observable): ParsedInput {
  return tryParseObservable(raw);
}
