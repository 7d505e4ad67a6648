import type { Clock } from '../contract/tokens.js';
import type { CircuitStateName } from '../resilience/policies.js';
import type { InstanceStats } from './events.js';
import type { StageEvent } from './stages/stage.js';

/**
 * An instance's counters, fed by the events its stages emit (`observe`), so no stage keeps
 * counts of its own. `snapshot` is synchronous: it adds the wait for quota still in progress.
 */
export class StatsCollector {
  private readonly stats: InstanceStats = {
    lookups: 0,
    cacheHits: 0,
    coalesced: 0,
    upstreamCalls: 0,
    errors: {},
    retries: 0,
    timeouts: 0,
    bulkheadRejections: 0,
    circuitState: 'closed',
    quotaWaitMs: 0,
    quotaBlockedMs: 0,
    waitingForQuota: 0,
  };
  /** When the current stretch of waiting for quota began (valid while waitingForQuota > 0). */
  private blockedSince = 0;

  constructor(
    private readonly clock: Clock,
    private readonly circuitState: () => CircuitStateName,
  ) {}

  observe(event: StageEvent): void {
    const stats = this.stats;
    switch (event.type) {
      case 'lookup':
        this.countLookup(event.status, event.cacheHit, event.errorCode);
        return;
      case 'coalesced':
        stats.coalesced++;
        return;
      case 'upstream':
        this.countUpstream();
        return;
      case 'retry':
        stats.retries++;
        return;
      case 'timeout':
        stats.timeouts++;
        return;
      case 'bulkhead_rejected':
        stats.bulkheadRejections++;
        return;
      case 'circuit':
        stats.circuitState = event.state;
        return;
      case 'rate_limit_wait':
        stats.quotaWaitMs += event.waitedMs;
        return;
      case 'quota_wait':
        // Wall-clock time blocked on quota: from the first waiter in to the last one out.
        if (event.phase === 'start') {
          if (stats.waitingForQuota++ === 0) this.blockedSince = event.at;
        } else if (--stats.waitingForQuota === 0) {
          stats.quotaBlockedMs += event.at - this.blockedSince;
        }
        return;
      case 'http':
        return;
    }
  }

  /** One lookup's record, counted as its `lookup` event would be (without building the event when nobody listens). */
  countLookup(status: string, cacheHit: boolean, errorCode: string | undefined): void {
    if (status === 'unsupported') return;
    const stats = this.stats;
    stats.lookups++;
    if (cacheHit) stats.cacheHits++;
    if (status === 'error' && errorCode) this.countError(errorCode);
  }

  /** One successful upstream call, counted as its `upstream` event would be. */
  countUpstream(): void {
    this.stats.upstreamCalls++;
  }

  /** An error record the engine made without a lookup (an input that does not parse). */
  countError(code: string): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
  }

  snapshot(): InstanceStats {
    const { stats } = this;
    const quotaBlockedMs = stats.quotaBlockedMs + (stats.waitingForQuota > 0 ? this.clock.now() - this.blockedSince : 0);
    return { ...stats, errors: { ...stats.errors }, circuitState: this.circuitState(), quotaBlockedMs };
  }
}
