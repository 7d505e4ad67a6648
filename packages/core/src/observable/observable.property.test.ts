import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XEnrichError } from '../contract/x-enrich-error.js';
import { normalizeObservable, parseObservable, tryParseObservable } from './parse-observable.js';
import { defang, refang } from './refang.js';

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: length, maxLength: length });

// Observable-shaped strings, raw (upper case, IDN, long IPv6 forms) so normalization has work to do.
const observableLike = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
  fc.domain().map((domain) => domain.toUpperCase()),
  fc.domain(),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.webUrl().map((url) => url.replace(/^https?:\/\/[^/]*/, (prefix) => prefix.toUpperCase())),
  fc.tuple(fc.constantFrom('bücher', 'пример', '例え', 'straße'), fc.domain()).map(([label, domain]) => `${label}.${domain}`),
  hex(32),
  hex(40),
  hex(64),
);

// Strings assembled from the pieces the parser cares about, to reach its odd corners.
const tokens = fc
  .array(fc.constantFrom('h', 'x', 'hxxp', 'fxp', 's', ':', '//', '[.]', '(.)', '[dot]', '[:]', '[://]', '[at]', '.', '-', '_', '%', '[', ']', '0', '1', '255', 'a', 'f', 'ip:', 'domain:', 'url:', ' ', '/', '?', '#', 'ü', '\u0000', '@', '\\'), { maxLength: 20 })
  .map((parts) => parts.join(''));

const anyInput = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), tokens, observableLike);

describe('observable parser properties', () => {
  it('never throws anything but XEnrichError, whatever the string', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        try {
          parseObservable(input);
        } catch (error) {
          expect(error).toBeInstanceOf(XEnrichError);
        }
        expect(() => tryParseObservable(input)).not.toThrow();
      }),
      { numRuns: 3_000 },
    );
    // CPU-bound: 3,000 runs took 24 s on the loaded 2-CPU machine (seconds when idle). The limit
    // only catches a hang; nothing here is timed.
  }, 180_000);

  it('normalize is idempotent: parsing a normalized value gives it back unchanged', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const first = tryParseObservable(input);
        if (!first.ok) return;
        expect(parseObservable(first.observable.value).observable).toEqual(first.observable);
        expect(normalizeObservable(first.observable)).toEqual(first.observable);
      }),
      { numRuns: 3_000 },
    );
  });

  it('most generated observables parse (the generators exercise the valid path)', () => {
    const samples = fc.sample(observableLike, { numRuns: 500, seed: 42 });
    const parsedCount = samples.filter((sample) => tryParseObservable(sample).ok).length;
    expect(parsedCount / samples.length).toBeGreaterThan(0.8);
  });

  it('refang(defang(x)) = x for valid observables, and the defanged form parses back to x', () => {
    fc.assert(
      fc.property(observableLike, (input) => {
        const result = tryParseObservable(input);
        if (!result.ok) return;
        const { observable } = result;
        // A value that already contains a defang token (a literal `[.]` in a URL path) is ambiguous.
        fc.pre(refang(observable.value) === observable.value);
        expect(refang(defang(observable))).toBe(observable.value);
        expect(parseObservable(defang(observable)).observable).toEqual(observable);
      }),
      { numRuns: 2_000 },
    );
  });
});
