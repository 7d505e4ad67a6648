import { describe, expect, it } from 'vitest';
import { assessInfection, confidenceForRate, infectionRate } from './infection-rate.js';

const defaults = { lowConfidenceInfectionRateMax: 33, highConfidenceInfectionRateMin: 66 };

describe('infection rate', () => {
  it('is positives / total x 100', () => {
    expect(infectionRate({ positives: 65, total: 71 })).toBeCloseTo((65 / 71) * 100, 10);
    expect(infectionRate({ positives: 0, total: 55 })).toBe(0);
    expect(infectionRate({ positives: 3, total: 0 })).toBe(0);
  });

  it('keeps whole-number rates exact at the thresholds', () => {
    expect(infectionRate({ positives: 33, total: 100 })).toBe(33);
    expect(infectionRate({ positives: 66, total: 100 })).toBe(66);
  });
});

describe('confidence', () => {
  it.each([
    [32.99, 'low'],
    [33, 'medium'],
    [33.01, 'medium'],
    [65.99, 'medium'],
    [66, 'medium'],
    [66.01, 'high'],
    [0.5, 'low'],
    [100, 'high'],
  ] as const)('rates %s%% as %s with the default thresholds', (rate, confidence) => {
    expect(confidenceForRate(rate, defaults)).toBe(confidence);
  });

  it('is medium at exactly 33/100 and 66/100 detections, and just around them it changes', () => {
    expect(assessInfection({ positives: 33, total: 100 }, defaults).confidence).toBe('medium');
    expect(assessInfection({ positives: 66, total: 100 }, defaults).confidence).toBe('medium');
    expect(assessInfection({ positives: 32, total: 100 }, defaults).confidence).toBe('low');
    expect(assessInfection({ positives: 67, total: 100 }, defaults).confidence).toBe('high');
    // 1/3 of 99 engines is exactly 33% too.
    expect(assessInfection({ positives: 33, total: 99 }, defaults).confidence).toBe('medium');
  });

  it('follows custom thresholds', () => {
    const strict = { lowConfidenceInfectionRateMax: 5, highConfidenceInfectionRateMin: 10 };
    expect(assessInfection({ positives: 7, total: 71 }, strict).confidence).toBe('medium');
    expect(assessInfection({ positives: 8, total: 71 }, strict).confidence).toBe('high');
    expect(assessInfection({ positives: 3, total: 71 }, strict).confidence).toBe('low');
  });
});

describe('verdict', () => {
  it('is benign with no confidence when nothing detected', () => {
    const assessment = assessInfection({ positives: 0, total: 55 }, defaults);
    expect(assessment).toMatchObject({ verdict: 'benign', confidence: null, rate: 0 });
    expect(assessment.reasons[0]!.rule).toBe('positives=0');
  });

  it('is malicious from one detection, and its reason gives rate, ratio and both thresholds', () => {
    const assessment = assessInfection({ positives: 65, total: 71 }, defaults, 'the file');
    expect(assessment.verdict).toBe('malicious');
    expect(assessment.confidence).toBe('high');
    const [reason] = assessment.reasons;
    expect(reason!.message).toContain('91.55%');
    expect(reason!.message).toContain('65/71');
    expect(reason!.message).toContain('66%');
    expect(reason!.message).toContain('33%');
    expect(reason!.values).toEqual({ infectionRate: (65 * 100) / 71, positives: 65, total: 71, lowConfidenceInfectionRateMax: 33, highConfidenceInfectionRateMin: 66 });
  });
});
