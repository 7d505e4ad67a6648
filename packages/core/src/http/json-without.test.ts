import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertPlainName, parseJsonWithout } from './json-without.js';

/** What parseJsonWithout must equal: the whole parse, then every member of those names deleted, at any depth. */
function dropped(value: unknown, names: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => dropped(item, names));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (!names.includes(key)) out[key] = dropped(item, names);
  return out;
}

// Keys and strings that would fool a scanner: the name itself, the name as a string value, quoted
// and escaped spellings of it inside strings, brackets and backslashes in strings.
const tricky = fc.constantFrom('skip', 'a"skip', 'keep', 'skip ', '"skip"', '"skip":', '\\', '\\"skip\\":', '{', '}', '[', ']', ',"skip":{', 'a\\"', '"', '');
const key = fc.oneof(tricky, fc.string({ maxLength: 6 }));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')),
  leaf: fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), tricky, fc.string({ maxLength: 8 })),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
})).value;

describe('parseJsonWithout', () => {
  it('equals JSON.parse with the named members deleted, for any JSON, compact or indented', () => {
    fc.assert(
      fc.property(json, fc.constantFrom(undefined, 1, '\t', 2), fc.subarray(['skip', 'keep', 'skip ']), (value, indent, names) => {
        const text = JSON.stringify(value, null, indent);
        expect(parseJsonWithout(text, names, { minShare: 0 })).toEqual(dropped(JSON.parse(text), names));
      }),
      { numRuns: 2000 },
    );
  });

  it('parses the text whole when the members make up less than minShare of it (default a quarter)', () => {
    const big = { skip: 'x'.repeat(30), keep: 'y'.repeat(60) }; // the member: 39 of 102 characters
    expect(parseJsonWithout(JSON.stringify(big), ['skip'])).toEqual({ keep: big.keep });
    expect(parseJsonWithout(JSON.stringify(big), ['skip'], { minShare: 0.5 })).toEqual(big);
    const small = { skip: 1, keep: 'y'.repeat(60) };
    expect(parseJsonWithout(JSON.stringify(small), ['skip'])).toEqual(small);
  });

  it('cuts the first, a middle and the last member, and repeated ones, leaving valid JSON', () => {
    expect(parseJsonWithout('{"skip":{"a":[1,{"b":"}"}]},"x":1}', ['skip'], { minShare: 0 })).toEqual({ x: 1 });
    expect(parseJsonWithout('{"x":1, "skip" : [ "]" ] ,"y":2}', ['skip'], { minShare: 0 })).toEqual({ x: 1, y: 2 });
    expect(parseJsonWithout('{"x":1,"skip":"a\\"b\\\\"}', ['skip'], { minShare: 0 })).toEqual({ x: 1 });
    expect(parseJsonWithout('{"skip":1,"skip":2}', ['skip'], { minShare: 0 })).toEqual({});
    expect(parseJsonWithout('{"x":0,"skip":1 ,"skip":2}', ['skip'], { minShare: 0 })).toEqual({ x: 0 });
    expect(parseJsonWithout('{"skip":1,"skip":2,"x":3}', ['skip'], { minShare: 0 })).toEqual({ x: 3 });
    expect(parseJsonWithout('[{"skip":true},{"y":{"skip":null,"z":"\\"skip\\":1"}}]', ['skip'], { minShare: 0 })).toEqual([{}, { y: { z: '"skip":1' } }]);
  });

  it('fails as JSON.parse does on a body that is not JSON around the cut, or cut short inside it', () => {
    expect(() => parseJsonWithout('{"x":1,"skip":{"a":1}', ['skip'])).toThrow(SyntaxError);
    expect(() => parseJsonWithout('{"x":1,"skip":{"a":"}', ['skip'])).toThrow(SyntaxError);
    expect(() => parseJsonWithout('{"x":,"skip":1}', ['skip'])).toThrow(SyntaxError);
    expect(() => parseJsonWithout('', ['skip'])).toThrow(SyntaxError);
  });

  it('refuses a name JSON could spell with escapes', () => {
    expect(() => assertPlainName('a"b')).toThrow(/unread member names/);
    expect(() => assertPlainName('a\\b')).toThrow(/unread member names/);
    expect(() => assertPlainName('')).toThrow(/unread member names/);
    expect(() => assertPlainName('last_analysis_results')).not.toThrow();
  });
});
