import type { Observable, UpstreamCallContext } from '@x/core';
import type { VirusTotalV3Client } from './client.js';
import type { V3Lookup } from './mapping.js';

/**
 * The requests beyond `GET /{collection}/{id}`, each spending one unit of quota, each made
 * only when an option asks for it: relationship collections (`relatedObjects`), YARA ruleset
 * text (`yaraRulesets`) and reanalysis (`reanalyseStale`). The client has one method per endpoint; the choices live here.
 */

type Context = UpstreamCallContext;

/**
 * `GET /{collection}/{id}/{relationship}?limit=N` for each relationship: the collection bodies
 * by name. A relationship VirusTotal answers with NotFoundError is left out.
 */
export async function fetchRelatedObjects(client: VirusTotalV3Client, lookup: V3Lookup, wanted: ReadonlyArray<{ name: string; limit: number }>, context: Context): Promise<Record<string, unknown>> {
  const bodies: Record<string, unknown> = {};
  // One after the other: each waits for its own budget from the instance's rate limiter anyway.
  for (const { name, limit } of wanted) {
    const answer = await client.getRelated(lookup.collection, lookup.id, name, limit, context);
    if (answer.found) bodies[name] = answer.body;
  }
  return bodies;
}

/**
 * Asks VirusTotal to analyse the file (`POST /files/{id}/analyse`) or URL (`POST /urls`, form
 * `url=`) again; resolves with the analysis id (`data.id`), or null when it sent none.
 */
export async function requestReanalysis(client: VirusTotalV3Client, observable: Observable, lookup: V3Lookup, context: Context): Promise<string | null> {
  const answer = lookup.objectType === 'url' ? await client.submitUrl(observable.value, context) : await client.analyseFile(lookup.id, context);
  if (!answer.found) return null;
  const id = (answer.body as { data?: { id?: unknown } } | null)?.data?.id;
  return typeof id === 'string' ? id : null;
}

/**
 * `GET /yara_rulesets/{id}` for each id: the ruleset bodies by id, `null` for one VirusTotal
 * answers with NotFoundError (a ruleset withdrawn since it matched).
 */
export async function fetchYaraRulesets(client: VirusTotalV3Client, ids: readonly string[], context: Context): Promise<Record<string, unknown>> {
  const bodies: Record<string, unknown> = {};
  for (const id of ids) {
    const answer = await client.getYaraRuleset(id, context);
    bodies[id] = answer.found ? answer.body : null;
  }
  return bodies;
}
