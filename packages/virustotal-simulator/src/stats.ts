import { createHash } from 'node:crypto';

/**
 * How an API key appears in stats: `key:` and the first 8 hex characters of its SHA-256.
 * Keys here are fake, but a counter dump is exactly what ends up in CI logs, so it never
 * carries a key in clear; tests compute the same fingerprint to read their own counter.
 */
export function keyFingerprint(key: string | undefined): string {
  if (!key) return '(none)';
  return `key:${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

/** Counters returned by `stats()` and `GET /__sim/stats` (both built by `StatsRecorder.snapshot`). */
export interface SimulatorStats {
  /** API requests received (not `/__sim/*`). */
  total: number;
  /** By HTTP status as a string ("200", "429", ...), plus "reset" for destroyed connections. */
  byStatus: Record<string, number>;
  /** By endpoint: `v3 ip_addresses`, `v3 domains`, `v3 files`, `v3 urls`, `v2 file/report`, ... */
  byEndpoint: Record<string, number>;
  /** By key fingerprint (see `keyFingerprint`), "(none)" without a key. */
  byKey: Record<string, number>;
  /** Faults injected, by kind: latency, error, reset, truncate, malformed, slowBody. */
  faults: Record<string, number>;
  /** v2 resources answered (a batch of 3 hashes counts 3 here and 1 in total). */
  v2Resources: number;
  /** Arrival time (ms since the epoch) of the first and of the last API request; null before any. Benchmarks time quota-bound runs with them. */
  firstRequestAt: number | null;
  lastRequestAt: number | null;
  /** Captured responses loaded (`fixturesDir` and `fixtures`); not a counter, `reset()` keeps it. */
  fixtures: number;
}

const bump = (table: Record<string, number>, key: string, by = 1) => {
  table[key] = (table[key] ?? 0) + by;
};

type Counters = Omit<SimulatorStats, 'fixtures'>;

export class StatsRecorder {
  private data: Counters = StatsRecorder.empty();

  /** `fixtures`: how many captured responses the simulator loaded, reported with the counters. */
  constructor(private readonly fixtures: number) {}

  private static empty(): Counters {
    return { total: 0, byStatus: {}, byEndpoint: {}, byKey: {}, faults: {}, v2Resources: 0, firstRequestAt: null, lastRequestAt: null };
  }

  request(endpoint: string, keyId: string, now = Date.now()): void {
    this.data.total++;
    this.data.firstRequestAt ??= now;
    this.data.lastRequestAt = now;
    bump(this.data.byEndpoint, endpoint);
    bump(this.data.byKey, keyId);
  }

  status(status: number | 'reset'): void {
    bump(this.data.byStatus, String(status));
  }

  fault(kind: string): void {
    bump(this.data.faults, kind);
  }

  v2Resources(count: number): void {
    this.data.v2Resources += count;
  }

  /** The one place both `sim.stats()` and `GET /__sim/stats` come from, so they cannot drift apart. */
  snapshot(): SimulatorStats {
    return { ...structuredClone(this.data), fixtures: this.fixtures };
  }

  reset(): void {
    this.data = StatsRecorder.empty();
  }
}
