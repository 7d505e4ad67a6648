import type { AppConfig } from './app-config.js';

/**
 * Lookups each enabled instance can hold at once: its bulkhead's slots plus its queue
 * (`resilience.bulkhead`), Infinity without a bulkhead. Past that the bulkhead refuses calls
 * with X_BULKHEAD_FULL, a failed record for what is only local overload; the service and the CLI
 * keep below it instead (backpressure).
 */
export function lookupCapacity(config: Pick<AppConfig, 'providers'>): Map<string, number> {
  const capacity = new Map<string, number>();
  for (const [name, instance] of Object.entries(config.providers)) {
    if (!instance.enabled) continue;
    const bulkhead = instance.resilience.bulkhead;
    capacity.set(name, bulkhead === false ? Infinity : bulkhead.maxConcurrent + bulkhead.maxQueue);
  }
  return capacity;
}

/**
 * The CLI's concurrency, at most what every instance's bulkhead can hold: a run with a larger
 * `--concurrency` would turn the surplus into X_BULKHEAD_FULL records; instead it waits.
 */
export function admissibleConcurrency(requested: number, capacity: ReadonlyMap<string, number>): number {
  return Math.max(1, Math.min(requested, ...capacity.values()));
}

/**
 * Admission control for the service: a request takes, on every instance it selects, one slot per
 * lookup it can have in flight at once (the engine runs `concurrency` observables of a request at a
 * time). A request that does not fit is refused before it starts (503 with Retry-After) rather
 * than admitted and failed lookup by lookup. Admitted requests share each instance's bulkhead,
 * whose queue is first in, first out: a request has at most `concurrency` lookups in it, so one
 * large request cannot starve the others.
 */
export interface Admission {
  /** A release function when the request fits now; undefined when it must come back later. */
  tryAdmit(instances: readonly string[], observables: number): (() => void) | undefined;
  /** Slots taken per instance (for tests and metrics). */
  inUse(instance: string): number;
}

export function createAdmission(capacity: ReadonlyMap<string, number>, concurrency: number): Admission {
  const used = new Map<string, number>();
  return {
    tryAdmit(instances, observables) {
      const slots = Math.min(observables, concurrency);
      for (const name of instances) if ((used.get(name) ?? 0) + slots > (capacity.get(name) ?? Infinity)) return undefined;
      for (const name of instances) used.set(name, (used.get(name) ?? 0) + slots);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const name of instances) used.set(name, (used.get(name) ?? 0) - slots);
      };
    },
    inUse: (instance) => used.get(instance) ?? 0,
  };
}
