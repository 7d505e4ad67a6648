import { describe, expect, it } from 'vitest';
import { createServiceMetrics } from './metrics.js';
import type { SharedStoreStats } from '../stores.js';

describe('shared store metrics', () => {
  it('exports whether each Redis connection serves, and its outage, fallback and refusal counts', async () => {
    let shared: SharedStoreStats[] = [{ store: 'redis redis://***@cache:6379 x-enrich:', stats: { status: 'ready', outages: 0, fallbackOperations: 0, refusedOperations: 0 } }];
    const metrics = createServiceMetrics(async () => [], () => shared);
    const label = '{store="redis redis://***@cache:6379 x-enrich:"}';
    expect(await metrics.registry.metrics()).toContain(`x_enrich_shared_store_up${label} 1`);

    shared = [{ store: shared[0]!.store, stats: { status: 'degraded', outages: 1, fallbackOperations: 42, refusedOperations: 0 } }];
    const text = await metrics.registry.metrics();
    expect(text).toContain(`x_enrich_shared_store_up${label} 0`);
    expect(text).toContain(`x_enrich_shared_store_outages${label} 1`);
    expect(text).toContain(`x_enrich_shared_store_fallback_operations${label} 42`);
  });

  it('exports nothing for stores when no Redis is configured', async () => {
    const text = await createServiceMetrics(async () => []).registry.metrics();
    expect(text).not.toMatch(/x_enrich_shared_store_up\{/);
  });
});
