import type { z } from 'zod';

/**
 * zod's parse context for a schema that a process parses once or a few times: the config, a
 * plugin's manifest and options at load, the resilience defaults. On its first parse, zod 4
 * compiles an object schema into a parser of its own (source text through `new Function`),
 * which pays off over thousands of parses and costs milliseconds of a start that parses each
 * such schema once (issue 16). `jitless` takes zod's interpreted path for this parse only: the
 * same checks, defaults, transforms and issues, without the code generation. Schemas parsed on
 * every lookup (upstream responses) keep the compiled parser.
 *
 * A fresh object per call: zod writes into the context it is given.
 */
export function oneShot(): z.core.ParseContext<z.core.$ZodIssue> {
  return { jitless: true };
}
