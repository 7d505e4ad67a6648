import { zConfidence, zVerdict } from '../contract/result-record.js';

const KINDS = new Set(['found', 'not_found', 'pending']);
const VERDICTS = new Set<unknown>(zVerdict.options);
const CONFIDENCES = new Set<unknown>(zConfidence.options);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const show = (value: unknown): string => (typeof value === 'string' ? `"${value.slice(0, 40)}"` : Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value);

function reasonsProblem(reasons: unknown): string | undefined {
  if (!Array.isArray(reasons)) return `reasons is ${show(reasons)}, expected an array`;
  // Index loops, not `entries()`: no iterator and no [index, value] pair per reason (every miss is checked).
  for (let i = 0; i < reasons.length; i++) {
    const reason: unknown = reasons[i];
    if (!isObject(reason) || typeof reason.rule !== 'string' || typeof reason.message !== 'string') return `reasons[${i}] needs a string rule and message`;
  }
  return undefined;
}

/**
 * What is wrong with an outcome a provider returned, or undefined. Checked by hand on every
 * upstream outcome (not with zod: this is the miss path), so that a provider bug becomes an
 * `X_PROVIDER_FAILED` record instead of a record that breaks the public result format.
 */
export function outcomeProblem(outcome: unknown): string | undefined {
  if (!isObject(outcome) || !KINDS.has(outcome.kind as string)) return `kind is ${isObject(outcome) ? show(outcome.kind) : show(outcome)}, expected found, not_found or pending`;
  if (outcome.kind !== 'found') return outcome.reasons === undefined ? undefined : reasonsProblem(outcome.reasons);
  if (!VERDICTS.has(outcome.verdict)) return `verdict is ${show(outcome.verdict)}, expected one of ${[...VERDICTS].join(', ')}`;
  if (outcome.confidence !== null && !CONFIDENCES.has(outcome.confidence)) return `confidence is ${show(outcome.confidence)}, expected null or one of ${[...CONFIDENCES].join(', ')}`;
  const reasons = reasonsProblem(outcome.reasons);
  if (reasons) return reasons;
  if (!isObject(outcome.extracted)) return `extracted is ${show(outcome.extracted)}, expected an object`;
  if (!Array.isArray(outcome.entities)) return `entities is ${show(outcome.entities)}, expected an array`;
  const entities: unknown[] = outcome.entities;
  for (let i = 0; i < entities.length; i++) {
    const entity = entities[i];
    if (!isObject(entity) || typeof entity.type !== 'string' || typeof entity.name !== 'string') return `entities[${i}] needs a string type and name`;
  }
  return undefined;
}

