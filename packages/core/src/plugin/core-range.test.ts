import satisfies from 'semver/functions/satisfies.js';
import validRange from 'semver/ranges/valid.js';
import { describe, expect, it } from 'vitest';
import { coreRangeCheck, plainRangeSatisfied } from './core-range.js';

/** What the loader decided before the fast path: semver itself. */
function bySemver(version: string, range: string): boolean | 'invalid' {
  if (validRange(range) === null) return 'invalid';
  return satisfies(version, range, { includePrerelease: true });
}

const VERSIONS = ['0.0.0', '0.0.1', '0.0.2', '0.1.0', '0.1.1', '0.1.9', '0.2.0', '0.10.3', '1.0.0', '1.2.2', '1.2.3', '1.2.4', '1.3.0', '1.10.0', '2.0.0', '10.0.0'];
const PLAIN_RANGES = ['0.0.1', '0.1.0', '1.2.3', '^0.0.1', '^0.0.0', '^0.1.0', '^0.1.1', '^0.2.0', '^0.10.0', '^1.0.0', '^1.2.3', '^1.3.0', '^2.0.0', '^10.0.0'];

describe('plainRangeSatisfied', () => {
  it('decides every plain ^x.y.z and x.y.z range exactly as semver does', () => {
    for (const version of VERSIONS) {
      for (const range of PLAIN_RANGES) {
        expect([version, range, plainRangeSatisfied(version, range)]).toEqual([version, range, bySemver(version, range)]);
      }
    }
  });

  it('leaves anything else to semver', () => {
    for (const range of ['*', '>=0.1.0', '~0.1.0', '^0.1', '0.x', '^0.1.0 || ^1.0.0', ' ^0.1.0', '=0.1.0', 'v0.1.0', '^01.0.0', '^0.1.0-beta.1', 'not a range', '']) {
      expect(plainRangeSatisfied('0.1.0', range)).toBeUndefined();
    }
    for (const version of ['0.1.0-beta.1', '0.1.0+build.5', 'v0.1.0', '00.1.0']) {
      expect(plainRangeSatisfied(version, '^0.1.0')).toBeUndefined();
    }
    // Numbers past Number.MAX_SAFE_INTEGER cannot be compared as numbers.
    expect(plainRangeSatisfied('0.1.0', '^99999999999999999999.0.0')).toBeUndefined();
  });
});

describe('coreRangeCheck', () => {
  it('agrees with semver on plain and other ranges, prereleases included', () => {
    const versions = [...VERSIONS, '0.1.0-beta.1', '0.2.0-rc.1', '1.2.3-alpha', '2.0.0-0', '0.1.0+build.5'];
    const ranges = [...PLAIN_RANGES, '*', '>=0.1.0', '~0.1.0', '^0.1', '0.x', '^0.1.0 || ^1.0.0', ' ^0.1.0 ', '=0.1.0', '^0.1.0-beta.1', '>=1.0.0 <2.0.0'];
    for (const version of versions) {
      for (const range of ranges) {
        expect([version, range, coreRangeCheck(version, range)]).toEqual([version, range, bySemver(version, range)]);
      }
    }
  });

  it("reports a range semver cannot read as 'invalid'", () => {
    expect(coreRangeCheck('0.1.0', 'not a range')).toBe('invalid');
    expect(coreRangeCheck('0.1.0', '^^0.1.0')).toBe('invalid');
  });
});
