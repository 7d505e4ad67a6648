import { describe, expect, it } from 'vitest';
import { outcomeProblem } from './check-outcome.js';

const found = { kind: 'found', verdict: 'benign', confidence: null, reasons: [{ rule: 'r', message: 'm' }], extracted: {}, entities: [{ type: 'indicator', name: 'n' }] };

describe('outcomeProblem', () => {
  it('accepts well-formed outcomes', () => {
    expect(outcomeProblem(found)).toBeUndefined();
    expect(outcomeProblem({ ...found, reasons: [], entities: [] })).toBeUndefined();
    expect(outcomeProblem({ kind: 'not_found' })).toBeUndefined();
    expect(outcomeProblem({ kind: 'pending', reasons: [{ rule: 'r', message: 'm' }] })).toBeUndefined();
  });

  it('names the first bad reason or entity by its index, holes included', () => {
    expect(outcomeProblem({ ...found, reasons: [{ rule: 'r', message: 'm' }, { rule: 'r' }] })).toBe('reasons[1] needs a string rule and message');
    // eslint-disable-next-line no-sparse-arrays
    expect(outcomeProblem({ ...found, reasons: [{ rule: 'r', message: 'm' }, , { rule: 'r', message: 'm' }] })).toBe('reasons[1] needs a string rule and message');
    expect(outcomeProblem({ kind: 'not_found', reasons: [null] })).toBe('reasons[0] needs a string rule and message');
    expect(outcomeProblem({ ...found, entities: [{ type: 'a', name: 'b' }, { type: 'a', name: 'b' }, { type: 'a' }] })).toBe('entities[2] needs a string type and name');
    // eslint-disable-next-line no-sparse-arrays
    expect(outcomeProblem({ ...found, entities: [, { type: 'a', name: 'b' }] })).toBe('entities[0] needs a string type and name');
    expect(outcomeProblem({ ...found, entities: [['type', 'name']] })).toBe('entities[0] needs a string type and name');
  });

  it('names what is wrong with the outcome itself', () => {
    expect(outcomeProblem(null)).toBe('kind is null, expected found, not_found or pending');
    expect(outcomeProblem({ ...found, verdict: 'evil' })).toMatch(/^verdict is "evil", expected one of /);
    expect(outcomeProblem({ ...found, reasons: 'none' })).toBe('reasons is "none", expected an array');
    expect(outcomeProblem({ ...found, extracted: [] })).toBe('extracted is an array, expected an object');
    expect(outcomeProblem({ ...found, entities: {} })).toBe('entities is object, expected an array');
  });
});
