/**
 * @x/core/testing: the provider conformance kit. Import it from a provider's tests only:
 * it registers vitest `describe`/`it` blocks (vitest is an optional peer dependency).
 */
import '../contract/reflect-metadata.js';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { collectSecrets } from '../config/redact.js';
import { createEnricher } from '../engine/enricher.js';
import type { Observable } from '../contract/observable-type.js';
import { zProviderManifest } from '../contract/manifest.js';
import type { ProviderPlugin } from '../contract/provider.js';
import { zResultRecord, type ResultRecord } from '../contract/result-record.js';
import { captureLogger } from './capture.js';
import { abortReachesUpstream, actualFor, findSecretLeaks, type ConformanceFault, type ExpectedRecord } from './checks.js';
import { loadTestProvider } from './prepare.js';

export { loadTestProvider, type TestProviderOptions } from './prepare.js';
export { captureLogger, errorText, type CapturedLog } from './capture.js';
export { createFakeClock, type FakeClock } from './fake-clock.js';
export { runCacheStoreConformance, runRateLimitStoreConformance, type StoreConformanceOptions, type StoreUnderTest } from './store-conformance.js';
export { CONFORMANCE_FAULTS, abortReachesUpstream, actualFor, findSecretLeaks, type ConformanceFault, type ExpectedRecord, type SeenOutput } from './checks.js';

/** A request the upstream received while its fault was `hang`. */
export interface HungRequest {
  /** Resolves when the client closes that request's connection (the abort reached the HTTP call). */
  closed: Promise<unknown>;
}

/** A canned upstream answer, for declarative cases. */
export interface CannedResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A local upstream (a simulator, a node:http server) the kit can break on purpose. */
export interface ConformanceUpstream {
  /** Options merged over `validOptions` so the provider talks to this upstream (e.g. `{ baseUrl }`). */
  options?: Record<string, unknown>;
  /** Make every following request fail this way (see `CONFORMANCE_FAULTS`); `null` restores normal answers. */
  setFault(fault: ConformanceFault | null): void | Promise<void>;
  /**
   * Resolves with the next request that arrives while the fault is `hang`. With it, the kit
   * checks that aborting a lookup closes the upstream connection (the provider passed
   * `context.signal` to its HTTP call); without it that check is skipped.
   */
  hung?(): Promise<HungRequest>;
  /** Answer every following request with `response` (`null`: normal answers again). Needed by `cases`. */
  respond?(response: CannedResponse | null): void | Promise<void>;
  close(): Promise<void>;
}

/** One declarative case: the upstream answers `upstream`; the record for `observable` must match `expected`. */
export interface ConformanceCase {
  /** The test's name; default: the observable and the upstream status. */
  name?: string;
  observable: string | Observable;
  upstream: CannedResponse;
  expected: ExpectedRecord;
}

export interface ProviderConformanceOptions {
  plugin: ProviderPlugin;
  /** Options the plugin accepts (with a dummy secret). */
  validOptions: Record<string, unknown>;
  /** Options it must reject, with the dot path of the offending field. */
  invalidOptions?: Array<{ options: Record<string, unknown>; path: string }>;
  /** Observables (strings or `{ type, value }`) the upstream knows, and optionally ones it does not. */
  observables: { found: Array<string | Observable>; notFound?: Array<string | Observable> };
  /** Starts the upstream; without it the fault tests are skipped (in-process providers). */
  startUpstream?: () => Promise<ConformanceUpstream>;
  /** Secrets that must never leak; default: the secret-marked fields of `validOptions`. */
  secrets?: string[];
  /** Instance config overrides for the lookups (config-file form: `{ resilience: { timeout: '2s' } }`). */
  instanceConfig?: Record<string, unknown>;
  /**
   * Declarative cases, like ESLint's RuleTester: for each, the upstream answers the given
   * response and the record must match; a failure shows expected against actual.
   * Needs `startUpstream` whose upstream implements `respond`.
   */
  cases?: ConformanceCase[];
  /** How long (real time) the upstream may take to see a hung connection close after an abort. Default 2000 ms. */
  abortCloseWithinMs?: number;
}

/** Error codes a provider may end in on an upstream fault (anything but X_PROVIDER_FAILED, a bug). */
const UPSTREAM_FAULT_CODES = ['X_UPSTREAM_HTTP', 'X_UPSTREAM_NETWORK', 'X_UPSTREAM_BAD_RESPONSE', 'X_TIMEOUT', 'X_UPSTREAM_QUOTA'];

function describedFields(schema: z.ZodType): Array<{ path: string; described: boolean }> {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]) => ({ path: key, described: Boolean(field.description ?? z.globalRegistry.get(field)?.description) }));
}

/**
 * Registers the conformance suite for one provider plugin: manifest and lifecycle shape,
 * options accepted and rejected at the named paths, record shape per observable, upstream
 * faults (500, reset, garbage JSON) ending as `error` records with upstream codes (never a
 * crash, never X_PROVIDER_FAILED), prompt abort, and no secret in logs, errors or records.
 * Call it at the top level of a test file.
 */
export function runProviderConformance(options: ProviderConformanceOptions): void {
  const { plugin } = options;
  const id = typeof plugin.manifest?.id === 'string' ? plugin.manifest.id : 'plugin';

  describe(`provider conformance: ${id}`, () => {
    let upstream: ConformanceUpstream | undefined;
    const logger = captureLogger();
    const records: ResultRecord[] = [];
    const errors: unknown[] = [];

    const enricherFor = async (config: Record<string, unknown> = {}) => {
      upstream ??= options.startUpstream ? await options.startUpstream() : undefined;
      const loaded = loadTestProvider(plugin, {
        name: id,
        options: { ...options.validOptions, ...upstream?.options },
        config: { cache: false, ...options.instanceConfig, ...config },
      });
      return createEnricher({ providers: [loaded], cacheStore: false, logger });
    };
    const secrets = (): string[] => {
      if (options.secrets) return options.secrets;
      const manifest = zProviderManifest.parse(plugin.manifest);
      return collectSecrets([{ name: id, manifest, options: options.validOptions }]);
    };

    describe('manifest', () => {
      it('validates against the manifest schema', () => {
        const parsed = zProviderManifest.safeParse(plugin.manifest);
        expect(parsed.error?.issues ?? []).toEqual([]);
        expect(typeof plugin.register).toBe('function');
      });

      it('declares a semver version, a core range and TTLs only for its own types', () => {
        const manifest = zProviderManifest.parse(plugin.manifest);
        expect(semver.valid(manifest.version), `version ${manifest.version}`).not.toBeNull();
        expect(semver.validRange(manifest.coreRange), `coreRange ${manifest.coreRange}`).not.toBeNull();
        for (const type of Object.keys(manifest.defaultCacheTtlMs)) expect(manifest.observableTypes).toContain(type);
      });

      it('describes its lifecycle with dates and a message when not active', () => {
        const { lifecycle } = zProviderManifest.parse(plugin.manifest);
        if (lifecycle.status === 'active') return;
        expect(lifecycle.message, 'lifecycle.message').toBeTruthy();
        if (lifecycle.status === 'deprecated') expect(lifecycle.deprecatedSince, 'lifecycle.deprecatedSince').toBeTruthy();
        if (lifecycle.status === 'end-of-life') expect(lifecycle.endOfLife ?? lifecycle.endOfSupport, 'lifecycle.endOfLife').toBeTruthy();
      });

      it('describes every option', () => {
        const manifest = zProviderManifest.parse(plugin.manifest);
        const undescribed = describedFields(manifest.optionsSchema).filter((f) => !f.described).map((f) => f.path);
        expect(undescribed).toEqual([]);
      });
    });

    describe('options', () => {
      it('accepts the valid options', () => {
        const manifest = zProviderManifest.parse(plugin.manifest);
        expect(manifest.optionsSchema.safeParse(options.validOptions).error?.issues ?? []).toEqual([]);
      });
      for (const invalid of options.invalidOptions ?? []) {
        it(`rejects invalid options at ${invalid.path}`, () => {
          const manifest = zProviderManifest.parse(plugin.manifest);
          const parsed = manifest.optionsSchema.safeParse(invalid.options);
          expect(parsed.success).toBe(false);
          expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toContain(invalid.path);
        });
      }
    });

    describe('lookups', () => {
      it('gives valid ok (or pending) records for known observables', async () => {
        const enricher = await enricherFor();
        const result = await enricher.enrich(options.observables.found);
        records.push(...result.records);
        for (const record of result.records) {
          zResultRecord.parse(record);
          expect([record.status, record.error?.message]).toEqual([expect.stringMatching(/^(ok|pending)$/), undefined]);
        }
        await enricher.close();
      });

      it.skipIf(!options.observables.notFound?.length)('gives not_found records with an unknown verdict for unknown observables', async () => {
        const enricher = await enricherFor();
        const result = await enricher.enrich(options.observables.notFound ?? []);
        records.push(...result.records);
        for (const record of result.records) {
          zResultRecord.parse(record);
          expect(record).toMatchObject({ status: 'not_found', verdict: 'unknown', error: null });
        }
        await enricher.close();
      });

      it('ends promptly with a skipped record when the signal aborts', async () => {
        const enricher = await enricherFor({ resilience: { timeout: '30s', retry: false, circuitBreaker: false } });
        const controller = new AbortController();
        // With an upstream that never answers, abort mid-flight; an in-process provider is aborted up front.
        if (upstream) await upstream.setFault('hang');
        else controller.abort();
        const started = Date.now();
        const pending = enricher.enrich([options.observables.found[0] as string | Observable], { signal: controller.signal });
        setTimeout(() => controller.abort(), 20);
        const result = await pending;
        expect(result.records[0]?.status).toBe('skipped');
        expect(Date.now() - started).toBeLessThan(5_000);
        await upstream?.setFault(null);
        await enricher.close();
      });

      it.skipIf(!options.startUpstream)('passes the abort to the upstream: the hung request\'s connection closes', async (context) => {
        const enricher = await enricherFor({ resilience: { timeout: '30s', retry: false, circuitBreaker: false } });
        if (!upstream?.hung) {
          await enricher.close();
          context.skip('the upstream does not implement hung()');
          return;
        }
        try {
          const problem = await abortReachesUpstream(enricher, { setFault: (fault) => upstream!.setFault(fault), hung: () => upstream!.hung!() }, options.observables.found[0] as string | Observable, options.abortCloseWithinMs);
          expect(problem, 'whether the abort reached the upstream').toBeUndefined();
        } finally {
          await enricher.close();
        }
      });
    });

    describe.skipIf(!options.startUpstream)('upstream faults', () => {
      for (const fault of ['http_500', 'reset', 'garbage_json'] as const) {
        it(`turns ${fault} into an error record with an upstream code, never a crash`, async () => {
          const enricher = await enricherFor({ resilience: { timeout: '5s', retry: false, circuitBreaker: false } });
          await upstream?.setFault(fault);
          try {
            const result = await enricher.enrich([options.observables.found[0] as string | Observable]);
            const record = result.records[0] as ResultRecord;
            records.push(record);
            zResultRecord.parse(record);
            expect(record.status).toBe('error');
            expect(UPSTREAM_FAULT_CODES).toContain(record.error?.code);
            errors.push(record.error);
          } finally {
            await upstream?.setFault(null);
            await enricher.close();
          }
        });
      }
    });

    describe.skipIf(!options.cases?.length)('cases', () => {
      for (const [index, testCase] of (options.cases ?? []).entries()) {
        const observable = typeof testCase.observable === 'string' ? testCase.observable : `${testCase.observable.type} ${testCase.observable.value}`;
        it(testCase.name ?? `case ${index + 1}: ${observable} when the upstream answers ${testCase.upstream.status ?? 200}`, async () => {
          const enricher = await enricherFor({ resilience: { timeout: '5s', retry: false, circuitBreaker: false } });
          if (!upstream?.respond) throw new Error('cases need startUpstream() whose upstream implements respond(response)');
          await upstream.respond(testCase.upstream);
          try {
            const result = await enricher.enrich([testCase.observable]);
            const record = result.records[0] as ResultRecord;
            records.push(record);
            zResultRecord.parse(record);
            const expected: ExpectedRecord = testCase.expected;
            expect(actualFor(expected, record), `record for ${observable}${record.error ? ` (error: ${record.error.message})` : ''}`).toEqual(expected);
          } finally {
            await upstream.respond(null);
            await enricher.close();
          }
        });
      }
    });

    describe('secrets', () => {
      // A plugin whose options hold no secret (a local list) has nothing to leak; one that forgot
      // to mark its key with secret() shows here as skipped, not as a pass that checked nothing.
      it.skipIf(secrets().length === 0)('never appear in logs, errors or records', () => {
        expect(findSecretLeaks(secrets(), { records, errors, logs: logger.lines }), 'where a secret leaked').toEqual([]);
      });
    });

    it('closes its upstream', async () => {
      await upstream?.close();
      upstream = undefined;
    });
  });
}
