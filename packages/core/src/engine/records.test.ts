import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProviderOutcome } from '../contract/provider.js';
import { outcomeRecord } from './records.js';

const observable = { type: 'ipv4', value: '8.8.8.8' } as const;
const provider = { name: 'vt3', plugin: 'virustotal-v3', version: '0.1.0' };
const outcome: ProviderOutcome = { kind: 'not_found', reasons: [] };

/** The record's fetchedAt for `ms` (a miss), or the error building it threw. */
function fetchedAt(ms: number): string {
  try {
    return outcomeRecord(observable, '8.8.8.8', provider, outcome, ms, undefined, false).fetchedAt as string;
  } catch (error) {
    return `${(error as Error).name}`;
  }
}

/** What the record held before the minute's prefix: the Date's text, or its error. */
function dateText(ms: number): string {
  try {
    return new Date(ms).toISOString();
  } catch (error) {
    return `${(error as Error).name}`;
  }
}

describe('outcomeRecord fetchedAt', () => {
  it("writes the Date's ISO text for runs of times within a minute, across minutes and at the edges", () => {
    const minute = Date.UTC(2026, 11, 2, 7, 59);
    const times = [
      // Increasing by one to a few milliseconds, over a minute's end, then back in time.
      ...Array.from({ length: 3000 }, (_, i) => minute - 1500 + i * 3),
      ...Array.from({ length: 70 }, (_, i) => minute + 59_990 + i),
      minute - 60_000,
      minute - 1,
      minute,
      minute,
      // Out of the prefix's range, not whole, or not a time at all: the Date's answer.
      0,
      -0,
      1,
      -1,
      59_999,
      60_000,
      1.5,
      minute + 0.5,
      minute + 2,
      253_402_300_799_999,
      253_402_300_799_000,
      253_402_300_800_000,
      -62_198_755_200_000,
      8.64e15,
      8.64e15 + 1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ];
    for (const ms of times) expect(fetchedAt(ms), String(ms)).toBe(dateText(ms));
  });

  it("writes the Date's ISO text for random times, alone and in runs (a property test)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 253_402_300_800_000 }), fc.double({ min: -1e15, max: 9e15 })), fc.array(fc.integer({ min: -70_000, max: 70_000 }), { maxLength: 8 }), (start, steps) => {
        let ms = start;
        expect(fetchedAt(ms)).toBe(dateText(ms));
        for (const step of steps) {
          ms += step;
          expect(fetchedAt(ms)).toBe(dateText(ms));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it("keeps a cache hit's storedAt and age with the minute's prefix in use", () => {
    const now = Date.UTC(2026, 11, 2, 8, 0, 30, 250);
    fetchedAt(now);
    const hit = outcomeRecord(observable, '8.8.8.8', provider, outcome, now - 12_345, now, false);
    expect(hit.cache).toEqual({ hit: true, storedAt: new Date(now - 12_345).toISOString(), ageSeconds: 12 });
    expect(hit.fetchedAt).toBe(new Date(now - 12_345).toISOString());
  });
});
