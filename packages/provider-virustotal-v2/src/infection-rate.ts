import type { Confidence, Reason, Verdict } from '@x/core';
import type { InfectionRateThresholds } from './options.js';

/** A detection ratio: how many engines flagged the resource out of how many looked at it. */
export interface DetectionRatio {
  positives: number;
  total: number;
}

/**
 * positives / total x 100, the "confidence infection rate" of the v2 enricher.
 * Multiplying before dividing keeps whole-number rates exact (33/100 is 33, not 33.000000000000004),
 * which matters because the thresholds are compared inclusively. A scan with no engines is 0.
 */
export function infectionRate({ positives, total }: DetectionRatio): number {
  if (!(total > 0) || !(positives > 0)) return 0;
  return (positives * 100) / total;
}

/**
 * The confidence for a rate of a detected resource: below the low maximum -> low; above the
 * high minimum -> high; from the low maximum to the high minimum, both inclusive -> medium.
 */
export function confidenceForRate(rate: number, thresholds: InfectionRateThresholds): Confidence {
  if (rate < thresholds.lowConfidenceInfectionRateMax) return 'low';
  if (rate > thresholds.highConfidenceInfectionRateMin) return 'high';
  return 'medium';
}

/** What the infection-rate rules concluded for one report. */
export interface InfectionAssessment {
  verdict: Extract<Verdict, 'malicious' | 'benign' | 'unknown'>;
  /** null when nothing detected the resource: a benign verdict carries no confidence. */
  confidence: Confidence | null;
  /** The infection rate in percent (0 to 100), unrounded. */
  rate: number;
  positives: number;
  total: number;
  reasons: Reason[];
}

/** Rounds for display only; decisions use the exact rate. */
export function formatRate(rate: number): string {
  return `${Number.isInteger(rate) ? rate : rate.toFixed(2)}%`;
}

/**
 * Applies the verdict and confidence rules to one detection ratio. `subject` says what the
 * ratio belongs to in the reason text (e.g. `the file scan`, `the worst detected URL http://…`).
 */
export function assessInfection(ratio: DetectionRatio, thresholds: InfectionRateThresholds, subject = 'the scan'): InfectionAssessment {
  const rate = infectionRate(ratio);
  const low = thresholds.lowConfidenceInfectionRateMax;
  const high = thresholds.highConfidenceInfectionRateMin;
  const values = { infectionRate: rate, positives: ratio.positives, total: ratio.total, lowConfidenceInfectionRateMax: low, highConfidenceInfectionRateMin: high };
  const ratioText = `${ratio.positives}/${ratio.total} engines`;

  if (!(ratio.positives > 0)) {
    return {
      verdict: 'benign',
      confidence: null,
      rate: 0,
      positives: ratio.positives,
      total: ratio.total,
      reasons: [
        {
          rule: 'positives=0',
          message: `No engine detected ${subject} (${ratioText}): infection rate 0%, benign (low-confidence maximum ${low}%, high-confidence minimum ${high}%).`,
          values,
        },
      ],
    };
  }

  const confidence = confidenceForRate(rate, thresholds);
  const rule =
    confidence === 'low'
      ? 'infection_rate<lowConfidenceInfectionRateMax'
      : confidence === 'high'
        ? 'infection_rate>highConfidenceInfectionRateMin'
        : 'lowConfidenceInfectionRateMax<=infection_rate<=highConfidenceInfectionRateMin';
  const comparison =
    confidence === 'low' ? 'below the low-confidence maximum' : confidence === 'high' ? 'above the high-confidence minimum' : 'between the two thresholds (inclusive)';
  return {
    verdict: 'malicious',
    confidence,
    rate,
    positives: ratio.positives,
    total: ratio.total,
    reasons: [
      {
        rule,
        message: `Infection rate ${formatRate(rate)} (${ratioText} detected ${subject}) is ${comparison}: malicious, ${confidence} confidence (low-confidence maximum ${low}%, high-confidence minimum ${high}%).`,
        values,
      },
    ],
  };
}
