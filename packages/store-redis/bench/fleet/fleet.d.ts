// Types for fleet.js, so the TypeScript tests can drive it.
export interface FleetWorkerResult {
  type: 'done';
  pid: number;
  lookups: number;
  elapsedMs: number;
  statuses: Record<string, number>;
  stats: { lookups: number; cacheHits: number; coalesced: number; upstreamCalls: number; errors: Record<string, number>; quotaWaitMs: number };
  storeStatus: string;
}

export function runFleet(options: {
  processes: number;
  observablesFor: (index: number) => string[];
  worker: Record<string, unknown>;
  timeoutMs?: number;
}): Promise<{ wallMs: number; results: FleetWorkerResult[] }>;

export function observables(count: number, salt?: number): string[];
export function shuffled<T>(items: readonly T[], seed: number): T[];

export function runCliFleet(options: {
  cli: string;
  config: string;
  processes: number;
  observablesFor: (index: number) => string[];
  dir: string;
  timeoutMs?: number;
}): Promise<{ wallMs: number; results: Array<{ code: number; records: number; statuses: Record<string, number>; summary: string }> }>;
