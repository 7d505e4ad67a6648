import type { z } from 'zod';

/**
 * The parts of zod 4's internal schema definition (`schema._zod.def`) that our schema walkers
 * read: the configuration reference and the secret finder. zod does not export a walker, and a
 * plugin may bundle its own zod copy, so we read the definition structurally.
 */
export interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
  discriminator?: string;
  defaultValue?: unknown;
}

const UNKNOWN: ZodDef = { type: 'unknown' };

/** A schema's definition; `{ type: 'unknown' }` for anything that is not a zod 4 schema. */
export function defOf(schema: z.ZodType): ZodDef {
  return (schema as unknown as { _zod?: { def?: ZodDef } })._zod?.def ?? UNKNOWN;
}
