import type { Enricher } from '../engine/enricher.js';
import type { Observable } from '../contract/observable-type.js';
import type { ResultRecord } from '../contract/result-record.js';
import type { CapturedLog } from './capture.js';

/**
 * The conformance kit's checks as plain functions that return what is wrong (empty when all is
 * well), so the kit reports *where* and *what* (ESLint's RuleTester habit) instead of
 * `expected true to be false`, and the kit's own tests can run them against broken providers.
 */

/** The faults a fake upstream must produce on `setFault`, and what each one means. */
export const CONFORMANCE_FAULTS = {
  http_500: 'answer every request with HTTP 500',
  reset: 'destroy the connection without answering (ECONNRESET)',
  garbage_json: 'answer 200 with a body that is not valid JSON',
  hang: 'accept the request and never answer; report it through hung() and notice when the client closes the connection',
} as const;

/** Upstream faults the kit asks a test upstream to produce. */
export type ConformanceFault = keyof typeof CONFORMANCE_FAULTS;

/** Shows which secret without showing it: its position in the list and its length. */
function secretLabel(index: number, secret: string): string {
  return `secret #${index + 1} (${secret.length} characters)`;
}

/** Paths (`a.b[2].c`) of every string inside `value` that contains `secret`. */
function pathsContaining(value: unknown, secret: string, path = ''): string[] {
  if (typeof value === 'string') return value.includes(secret) ? [path || '(the value)'] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => pathsContaining(item, secret, `${path}[${index}]`));
  if (value instanceof Error) {
    return [
      ...pathsContaining(value.message, secret, path ? `${path}.message` : 'message'),
      ...pathsContaining(value.stack, secret, path ? `${path}.stack` : 'stack'),
      ...pathsContaining({ ...value }, secret, path),
      ...(value.cause === undefined ? [] : pathsContaining(value.cause, secret, path ? `${path}.cause` : 'cause')),
    ];
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => pathsContaining(item, secret, path ? `${path}.${key}` : key));
  }
  return [];
}

/** What the kit saw during a run, to search for secrets. */
export interface SeenOutput {
  records?: readonly ResultRecord[];
  errors?: readonly unknown[];
  logs?: readonly CapturedLog[];
}

/**
 * Where any of `secrets` appears: which field of which record, which error, which log line.
 * One line per place, e.g. `secret #1 (28 characters) in record 3 (vt3, domain example.org) at error.message`.
 */
export function findSecretLeaks(secrets: readonly string[], seen: SeenOutput): string[] {
  const leaks: string[] = [];
  secrets.forEach((secret, index) => {
    if (!secret) return;
    const label = secretLabel(index, secret);
    (seen.records ?? []).forEach((record, n) => {
      for (const path of pathsContaining(record, secret)) {
        leaks.push(`${label} in record ${n + 1} (${record.provider?.name ?? '?'}, ${record.observable?.type ?? '?'} ${record.observable?.value ?? '?'}) at ${path}`);
      }
    });
    (seen.errors ?? []).forEach((error, n) => {
      for (const path of pathsContaining(error, secret)) leaks.push(`${label} in error ${n + 1} at ${path}`);
    });
    (seen.logs ?? []).forEach((line, n) => {
      for (const path of [...pathsContaining(line.msg, secret, 'msg'), ...pathsContaining(line.obj, secret, 'obj')]) {
        leaks.push(`${label} in log line ${n + 1} (${line.level} ${JSON.stringify(line.msg ?? '')}) at ${path}`);
      }
    });
  });
  return leaks;
}

/** What a declarative case expects of the record (any subset). */
export interface ExpectedRecord {
  status?: ResultRecord['status'];
  verdict?: ResultRecord['verdict'];
  confidence?: ResultRecord['confidence'];
  /** The error code of an `error` record (`X_UPSTREAM_HTTP` ...). */
  errorCode?: string | null;
}

/** The fields of `record` that `expected` names, in the same shape, for an expected-vs-actual diff. */
export function actualFor(expected: ExpectedRecord, record: ResultRecord | undefined): ExpectedRecord {
  const actual: ExpectedRecord = {};
  for (const key of Object.keys(expected) as Array<keyof ExpectedRecord>) {
    if (key === 'errorCode') actual.errorCode = record?.error?.code ?? null;
    else (actual as Record<string, unknown>)[key] = record?.[key];
  }
  return actual;
}

/** The part of a test upstream `abortReachesUpstream` drives. */
export interface HangingUpstream {
  setFault(fault: ConformanceFault | null): void | Promise<void>;
  hung(): Promise<{ closed: Promise<unknown> }>;
}

/**
 * Makes the upstream hang, looks `observable` up, aborts once the request waits at the
 * upstream, and checks that the upstream then sees the connection close within `withinMs`
 * (real time: how long a closing socket takes to be noticed, not a margin on a pass). Resolves
 * with what went wrong, or undefined. A provider that never passes `context.signal` to its HTTP
 * call leaves the connection open and fails here, although the engine still gives up promptly.
 */
export async function abortReachesUpstream(enricher: Enricher, upstream: HangingUpstream, observable: string | Observable, withinMs = 2_000): Promise<string | undefined> {
  await upstream.setFault('hang');
  const controller = new AbortController();
  const hung = upstream.hung();
  const pending = enricher.enrich([observable], { signal: controller.signal });
  try {
    const request = await hung;
    controller.abort();
    const status = (await pending).records[0]?.status;
    if (status !== 'skipped') return `the aborted lookup ended as ${String(status)}, expected skipped`;
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([request.closed.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, withinMs, false)))]);
    clearTimeout(timer);
    return closed ? undefined : `the upstream still holds the aborted request's connection ${withinMs} ms after the abort: pass context.signal to the HTTP call`;
  } finally {
    controller.abort();
    await upstream.setFault(null);
  }
}
