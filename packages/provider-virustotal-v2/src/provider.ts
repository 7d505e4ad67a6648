import { inject, injectable, isXEnrichError, Tokens, UpstreamError, XEnrichError, type Clock, type EnrichContext, type HttpClient, type EnrichmentProvider, type Observable, type ProviderOutcome } from '@x/core';
import { VirusTotalV2Client } from './client.js';
import { mapV2Report, reportKindFor, splitBatchAnswer, type V2ReportKind } from './mapping.js';
import type { VirusTotalV2Options } from './options.js';

/** The EICAR test file's MD5: a tiny, always-known file/report for health checks. */
const EICAR_MD5 = '44d88612fea8a8f36de82e1278abb02f';

type BatchKind = Extract<V2ReportKind, 'file' | 'url'>;

/** How long outcomes carried over for a group retry stay usable, and how many are kept. */
const CARRY_TTL_MS = 10 * 60_000;
const CARRY_MAX = 1_000;

const observableKey = (observable: Observable) => `${observable.type}:${observable.value}`;

/**
 * The VirusTotal API v2 provider. One instance per configured provider, built by core's
 * container with the instance's validated options and HTTP client (every request waits for
 * budget from the instance's rate limiter before it is sent).
 */
@injectable()
export class VirusTotalV2Provider implements EnrichmentProvider {
  private readonly client: VirusTotalV2Client;
  /**
   * Outcomes already fetched in a group that then failed transiently. Core retries a failed
   * `enrichMany` call as a whole; these answer the retry so only the failed requests are sent
   * again and quota is not spent twice on the same report.
   */
  private readonly carried = new Map<string, { outcome: ProviderOutcome; expiresAt: number }>();

  constructor(
    @inject(Tokens.ProviderOptions) private readonly options: VirusTotalV2Options,
    @inject(Tokens.HttpClient) http: HttpClient,
    @inject(Tokens.Clock) private readonly clock: Clock,
  ) {
    this.client = new VirusTotalV2Client(http, options);
    this.batchSize = options.batchSize;
  }

  /** Resources per batched request for this instance (the engine groups lookups by it). */
  readonly batchSize: number;

  async enrich(observable: Observable, context: EnrichContext): Promise<ProviderOutcome> {
    const kind = this.kindOf(observable);
    const body = await this.client.report(kind, [observable.value], context);
    // Ask and answer are one resource; an array here would still be mapped by resource.
    const [report] = kind === 'file' || kind === 'url' ? splitBatchAnswer([observable.value], body, kind === 'file') : [body];
    if (report === undefined) throw missingFromAnswer(observable, kind);
    return mapV2Report(observable, report, this.options);
  }

  /**
   * Looks up hashes with comma-separated file/report requests and URLs with newline-separated
   * url/report requests, `batchSize` resources per request (duplicates asked once); domains and
   * IPs have no batch endpoint and go one by one. Answers are matched to inputs by `resource`.
   *
   * Failures: when a request fails transiently (quota, network, 5xx, timeout), the call throws
   * that error so core's retry policy applies, and the outcomes it did get are carried over to
   * answer the retry without new requests. Other failures (bad key, an input missing from the
   * answer, an unsupported type) fail only the affected inputs, unless every request failed.
   */
  async enrichMany(observables: readonly Observable[], context: EnrichContext): Promise<Array<ProviderOutcome | Error>> {
    const results = new Array<ProviderOutcome | Error | undefined>(observables.length);
    const batches = new Map<BatchKind, Map<string, number[]>>();
    const tasks: Array<Promise<void>> = [];

    const now = this.clock.now();
    observables.forEach((observable, index) => {
      const carried = this.carried.get(observableKey(observable));
      if (carried) {
        this.carried.delete(observableKey(observable));
        if (carried.expiresAt > now) {
          results[index] = carried.outcome;
          return;
        }
      }
      let kind: V2ReportKind;
      try {
        kind = this.kindOf(observable);
      } catch (error) {
        results[index] = asError(error);
        return;
      }
      if (kind !== 'file' && kind !== 'url') {
        tasks.push(
          this.enrich(observable, context).then(
            (outcome) => void (results[index] = outcome),
            (error: unknown) => {
              results[index] = asError(error);
              throw error;
            },
          ),
        );
        return;
      }
      const byResource = batches.get(kind) ?? new Map<string, number[]>();
      // Hash lookups are case-insensitive upstream; core already lower-cases them.
      const resource = observable.value;
      byResource.set(resource, [...(byResource.get(resource) ?? []), index]);
      batches.set(kind, byResource);
    });

    for (const [kind, byResource] of batches) {
      const resources = [...byResource.keys()];
      for (let start = 0; start < resources.length; start += this.options.batchSize) {
        const chunk = resources.slice(start, start + this.options.batchSize);
        tasks.push(this.runBatch(kind, chunk, byResource, observables, results, context));
      }
    }

    const settled = await Promise.allSettled(tasks);
    const failures = settled.filter((entry): entry is PromiseRejectedResult => entry.status === 'rejected').map((entry) => entry.reason as unknown);
    const transient = failures.find((error) => isXEnrichError(error) && error.retryable);
    if (transient !== undefined) {
      this.carry(observables, results);
      throw transient;
    }
    if (failures.length > 0 && failures.length === settled.length) throw failures[0];
    // Every slot is filled above; the fallback only guards against a bookkeeping bug.
    return results.map((result, index) => result ?? new UpstreamError('bad_response', `VirusTotal v2 gave no answer for ${observables[index]!.type} ${observables[index]!.value}.`));
  }

  private carry(observables: readonly Observable[], results: ReadonlyArray<ProviderOutcome | Error | undefined>): void {
    const expiresAt = this.clock.now() + CARRY_TTL_MS;
    results.forEach((result, index) => {
      if (result === undefined || result instanceof Error) return;
      const key = observableKey(observables[index]!);
      this.carried.delete(key);
      this.carried.set(key, { outcome: result, expiresAt });
    });
    // Oldest first (insertion order): a host that never retries must not grow this forever.
    for (const key of this.carried.keys()) {
      if (this.carried.size <= CARRY_MAX) break;
      this.carried.delete(key);
    }
  }

  async healthCheck(context: EnrichContext): Promise<{ ok: boolean; message?: string }> {
    try {
      await this.client.report('file', [EICAR_MD5], context);
      return { ok: true };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : 'VirusTotal v2 health check failed' };
    }
  }

  private async runBatch(
    kind: BatchKind,
    chunk: string[],
    byResource: Map<string, number[]>,
    observables: readonly Observable[],
    results: Array<ProviderOutcome | Error | undefined>,
    context: EnrichContext,
  ): Promise<void> {
    let body: unknown;
    try {
      body = await this.client.report(kind, chunk, context);
    } catch (error) {
      for (const resource of chunk) for (const index of byResource.get(resource) ?? []) results[index] = asError(error);
      throw error;
    }
    const reports = splitBatchAnswer(chunk, body, kind === 'file');
    chunk.forEach((resource, position) => {
      for (const index of byResource.get(resource) ?? []) {
        const observable = observables[index]!;
        const report = reports[position];
        try {
          results[index] = report === undefined ? missingFromAnswer(observable, kind) : mapV2Report(observable, report, this.options);
        } catch (error) {
          results[index] = asError(error);
        }
      }
    });
  }

  private kindOf(observable: Observable): V2ReportKind {
    const kind = reportKindFor(observable.type);
    if (!kind) {
      throw new XEnrichError('X_OBSERVABLE_UNSUPPORTED_TYPE', `VirusTotal v2 cannot look up ${observable.type} observables (ip-address/report is IPv4 only); use @x/provider-virustotal-v3.`);
    }
    return kind;
  }
}

function missingFromAnswer(observable: Observable, kind: V2ReportKind): UpstreamError {
  return new UpstreamError('bad_response', `VirusTotal v2 ${kind}/report answered without a report for ${observable.type} ${observable.value}.`);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
