import { createRequire } from 'node:module';
import type satisfiesFn from 'semver/functions/satisfies.js';
import type validRangeFn from 'semver/ranges/valid.js';

// Every plugin's manifest is checked on every start, and semver's first use compiles its ~40
// regular expressions (3-9 ms of a cold start, issue 16). The ranges plugins declare in practice
// are `^x.y.z` or `x.y.z` against a plain `x.y.z` core: those are decided here exactly, and
// anything else (`>=`, `||`, `~`, `x`, prereleases, whitespace ...) goes to semver, required on
// first need only.
const PLAIN_VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const PLAIN_RANGE = /^(\^?)(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

function parts(match: RegExpExecArray, from: number): [number, number, number] | undefined {
  const numbers = [Number(match[from]), Number(match[from + 1]), Number(match[from + 2])] as [number, number, number];
  return numbers.every(Number.isSafeInteger) ? numbers : undefined;
}

/** `^M.m.p` or `M.m.p` against a plain version, as semver decides it; undefined: not such a pair. */
export function plainRangeSatisfied(version: string, range: string): boolean | undefined {
  const v = PLAIN_VERSION.exec(version);
  const r = PLAIN_RANGE.exec(range);
  if (!v || !r) return undefined;
  const have = parts(v, 1);
  const want = parts(r, 2);
  if (!have || !want) return undefined;
  const [major, minor, patch] = have;
  const [wantMajor, wantMinor, wantPatch] = want;
  if (r[1] !== '^') return major === wantMajor && minor === wantMinor && patch === wantPatch;
  // Caret: the left-most non-zero part stays fixed, the rest may only go up.
  if (wantMajor > 0) return major === wantMajor && (minor > wantMinor || (minor === wantMinor && patch >= wantPatch));
  if (wantMinor > 0) return major === 0 && minor === wantMinor && patch >= wantPatch;
  return major === 0 && minor === 0 && patch === wantPatch;
}

let semver: { satisfies: typeof satisfiesFn; validRange: typeof validRangeFn } | undefined;

function loadSemver(): NonNullable<typeof semver> {
  if (!semver) {
    const require = createRequire(import.meta.url);
    // Only the two functions needed: the full `semver` index loads ~50 modules.
    semver = {
      satisfies: require('semver/functions/satisfies.js') as typeof satisfiesFn,
      validRange: require('semver/ranges/valid.js') as typeof validRangeFn,
    };
  }
  return semver;
}

/**
 * Whether `version` of @x/core satisfies a plugin's `coreRange` (prereleases included), or
 * 'invalid' when the range is not a semver range.
 */
export function coreRangeCheck(version: string, range: string): boolean | 'invalid' {
  const plain = plainRangeSatisfied(version, range);
  if (plain !== undefined) return plain;
  const { satisfies, validRange } = loadSemver();
  if (validRange(range) === null) return 'invalid';
  return satisfies(version, range, { includePrerelease: true });
}
