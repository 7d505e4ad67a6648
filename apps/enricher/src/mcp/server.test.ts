import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEnricher, definePlugin, injectable, type EnrichmentProvider, type Observable, type ProviderOutcome } from '@x/core';
import { loadTestProvider } from '@x/core/testing';
import { createAdmission } from '../admission.js';
import { createMcpServer } from './server.js';

const calls: Observable[] = [];
@injectable()
class Counting implements EnrichmentProvider {
  async enrich(observable: Observable): Promise<ProviderOutcome> {
    calls.push(observable);
    return { kind: 'found', verdict: 'benign', confidence: 'low', reasons: [], extracted: {}, entities: [] };
  }
}
const plugin = definePlugin({
  manifest: {
    id: 'counting',
    packageName: 'counting',
    version: '1.0.0',
    displayName: 'Counting',
    description: 'Counts calls.',
    coreRange: '^0.1.0',
    observableTypes: ['ipv4'],
    optionsSchema: z.object({}),
    defaultCacheTtlMs: {},
    defaultRateLimits: [],
    docsUrl: 'https://example.org/counting',
  },
  register: (registrar) => registrar.provider(Counting),
});

describe('MCP enrich under the service admission control', () => {
  it('waits for room in the bulkheads instead of failing lookups, then runs', async () => {
    const enricher = createEnricher({ providers: [loadTestProvider(plugin, { name: 'counting', config: { rateLimit: false } })], cacheStore: false });
    const admission = createAdmission(new Map([['counting', 1]]), 16);
    const server = createMcpServer({ enricher, version: '1', maxObservables: 10, providers: await enricher.providers(), admission });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(b);

    const busy = admission.tryAdmit(['counting'], 1)!;
    let done = false;
    const call = client.callTool({ name: 'enrich', arguments: { observables: ['192.0.2.1'] } }).then((result) => ((done = true), result));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([done, calls.length]).toEqual([false, 0]);
    busy();
    const result = await call;
    expect((result.structuredContent as { records: Array<{ status: string }> }).records.map((r) => r.status)).toEqual(['ok']);
    expect(admission.inUse('counting')).toBe(0);
    await client.close();
  });
});
