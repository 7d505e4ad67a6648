import { EventEmitter, once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEnricher } from '../engine/enricher.js';
import { Tokens } from '../contract/tokens.js';
import type { Observable } from '../contract/observable-type.js';
import { definePlugin, type EnrichContext, type ProviderOutcome } from '../contract/provider.js';
import type { ResultRecord } from '../contract/result-record.js';
import { captureLogger } from './capture.js';
import { abortReachesUpstream, actualFor, findSecretLeaks, type ConformanceFault } from './checks.js';
import { loadTestProvider } from './prepare.js';

const SECRET = 'checks-secret-0123456789abcdef';

describe('findSecretLeaks', () => {
  it('names the field of the record, the error and the log line, never the secret itself', () => {
    const record = {
      observable: { type: 'domain', value: 'example.org' },
      provider: { name: 'vt3' },
      error: { code: 'X_UPSTREAM_HTTP', message: `GET /x?key=${SECRET} failed` },
    } as unknown as ResultRecord;
    const logger = captureLogger();
    logger.info({ provider: 'vt3' }, 'fine');
    logger.warn({ url: `https://api.example/x?key=${SECRET}` }, 'request failed');
    const leaks = findSecretLeaks(['', SECRET], {
      records: [{ ...record, error: null } as ResultRecord, record],
      errors: [new Error('outer', { cause: new Error(`inner ${SECRET}`) })],
      logs: logger.lines,
    });
    expect(leaks).toEqual([
      'secret #2 (30 characters) in record 2 (vt3, domain example.org) at error.message',
      'secret #2 (30 characters) in error 1 at cause.message',
      'secret #2 (30 characters) in error 1 at cause.stack',
      'secret #2 (30 characters) in log line 2 (warn "request failed") at obj.url',
    ]);
    expect(leaks.join('\n')).not.toContain(SECRET);
  });
});

describe('actualFor', () => {
  it('picks the fields a case names, so a failure diffs expected against actual', () => {
    const record = { status: 'error', verdict: 'unknown', confidence: null, error: { code: 'X_UPSTREAM_HTTP', message: 'HTTP 500' } } as unknown as ResultRecord;
    expect(actualFor({ status: 'ok', verdict: 'malicious' }, record)).toEqual({ status: 'error', verdict: 'unknown' });
    expect(actualFor({ errorCode: 'X_UPSTREAM_HTTP', confidence: null }, record)).toEqual({ errorCode: 'X_UPSTREAM_HTTP', confidence: null });
  });
});

describe('abortReachesUpstream', () => {
  // A strict local upstream: with the `hang` fault it never answers, announces the request,
  // and tells when the client closes that connection.
  let baseUrl = '';
  let fault: ConformanceFault | null = null;
  const hangs = new EventEmitter();
  const server = createServer((req, res) => {
    if (fault === 'hang') return void hangs.emit('hung', { closed: new Promise((resolve) => res.on('close', resolve)) });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"listed":true}');
  });
  const upstream = {
    setFault: (next: ConformanceFault | null) => void (fault = next),
    hung: async () => ((await once(hangs, 'hung')) as [{ closed: Promise<unknown> }])[0],
  };
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A provider over `fetch` that passes the abort signal on, or forgets to. */
  function plugin(passSignal: boolean) {
    class FetchProvider {
      static inject = [Tokens.ProviderOptions];
      constructor(private readonly options: { baseUrl: string }) {}
      async enrich(observable: Observable, context: EnrichContext): Promise<ProviderOutcome> {
        const response = await fetch(`${this.options.baseUrl}/${observable.value}`, passSignal ? { signal: context.signal } : {});
        await response.json();
        return { kind: 'not_found' };
      }
    }
    return definePlugin({
      manifest: {
        id: 'fetcher',
        packageName: 'fetcher',
        version: '1.0.0',
        displayName: 'Fetcher',
        description: 'fetches',
        coreRange: '*',
        observableTypes: ['domain'],
        optionsSchema: z.object({ baseUrl: z.string().describe('Where the upstream listens.') }),
        defaultCacheTtlMs: {},
        defaultRateLimits: [],
        docsUrl: 'https://example.org/fetcher',
      },
      register: (registrar) => registrar.provider(FetchProvider),
    });
  }

  for (const passSignal of [true, false]) {
    it(passSignal ? 'passes a provider that hands context.signal to fetch' : 'catches a provider that never passes the signal to its HTTP call', async () => {
      const loaded = loadTestProvider(plugin(passSignal), { options: { baseUrl }, config: { cache: false, rateLimit: false, resilience: { timeout: '30s', retry: false } } });
      const enricher = createEnricher({ providers: [loaded], cacheStore: false });
      try {
        const problem = await abortReachesUpstream(enricher, upstream, 'example.org', passSignal ? 5_000 : 300);
        if (passSignal) expect(problem).toBeUndefined();
        else expect(problem).toBe("the upstream still holds the aborted request's connection 300 ms after the abort: pass context.signal to the HTTP call");
      } finally {
        await enricher.close();
      }
    });
  }
});
