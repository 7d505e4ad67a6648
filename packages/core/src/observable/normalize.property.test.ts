import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkIpv4, isPlainIpv4 } from './normalize.js';
import { refang } from './refang.js';

// The regex check `checkIpv4` ran alone before the hand-written scan (kept here as the reference).
const DOTTED_NUMBERS = /^\d+(?:\.\d+)*$/;
function regexIpv4(input: string): boolean {
  const parts = input.split('.');
  if (parts.length !== 4 || !DOTTED_NUMBERS.test(input)) return false;
  return parts.every((part) => !(part.length > 1 && part.startsWith('0')) && Number(part) <= 255);
}

// Refang without its fast exit: the six passes, repeated until stable (refang.ts before it).
const PASSES: Array<[RegExp, string | ((match: string, s: string) => string)]> = [
  [/\b(?:h(?:xx|tt|\*\*)p|fxp)(s?)(?=\s*(?:[[({]\s*:|:))/gi, (match, s) => (match[0]?.toLowerCase() === 'f' ? 'ftp' : 'http') + s.toLowerCase()],
  [/[[({]\s*:\/\/\s*[\])}]/g, '://'],
  [/[[({]\s*:\s*[\])}]/g, ':'],
  [/[[({]\s*(?:\.|dot)\s*[\])}]|\\\./gi, '.'],
  [/[[({]\s*(?:@|at)\s*[\])}]/gi, '@'],
  [/\[\/\]/g, '/'],
];
function regexRefang(input: string): string {
  let current = input;
  for (let pass = 0; pass < 8; pass++) {
    let next = current;
    for (const [pattern, replacement] of PASSES) next = next.replace(pattern, replacement as string);
    if (next === current) return next;
    current = next;
  }
  return current;
}

// Strings near an IPv4 address: digits, dots and the odd other character, leading zeros, big numbers.
const ipv4ish = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.array(fc.constantFrom('0', '1', '2', '5', '9', '00', '25', '255', '256', '999', '1000', '.', '.', '..', ' ', 'a', '-', '+', '٣'), { maxLength: 12 }).map((parts) => parts.join('')),
  fc.array(fc.nat({ max: 300 }), { minLength: 1, maxLength: 6 }).map((octets) => octets.join('.')),
  fc.string(),
);

describe('hand-written scans agree with the regexes they replace', () => {
  it('isPlainIpv4 accepts exactly what the regex check accepted, and checkIpv4 answers as before', () => {
    fc.assert(
      fc.property(ipv4ish, (input) => {
        expect(isPlainIpv4(input)).toBe(regexIpv4(input));
        const check = checkIpv4(input);
        expect(check.ok).toBe(regexIpv4(input));
        if (check.ok) expect(check.value).toBe(input);
      }),
      { numRuns: 5_000 },
    );
  });

  it('refang with its fast exit gives what the regex passes alone gave', () => {
    const defangedish = fc.array(fc.constantFrom('hxxp', 'hXXps', 'h**p', 'fxp', 's', ':', '//', '[.]', '(.)', '{.}', '[dot]', '[:]', '[://]', '[at]', '(@)', '[/]', '\\.', '\\', '.', 'a', '1', ' ', '[', ']', '(', ')', '{', '}'), { maxLength: 16 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(defangedish, fc.string(), fc.domain(), fc.ipV4(), fc.webUrl()), (input) => {
        expect(refang(input)).toBe(regexRefang(input));
      }),
      { numRuns: 5_000 },
    );
  });

  it.each(['1.2.3.4', '255.255.255.255', '0.0.0.0', '10.0.0.1'])('accepts %s', (input) => expect(isPlainIpv4(input)).toBe(true));
  it.each(['01.2.3.4', '256.1.1.1', '1.2.3', '1.2.3.4.5', '1..3.4', '1.2.3.4.', '.1.2.3', '1.2.3.0004', ' 1.2.3.4', '1.2.3.٣'])('refuses %s', (input) => expect(isPlainIpv4(input)).toBe(false));
});
