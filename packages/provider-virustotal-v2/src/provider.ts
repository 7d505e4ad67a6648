import { inject, injectable, Tokens, UpstreamError, XEnrichError, type EnrichContext, type HttpClient, type EnrichmentProvider, type Observable, type ProviderOutcome } from '@x/core';
import { VirusTotalV2Client } from './client.js';
import { mapV2Report, reportKindFor, splitBatchAnswer, type V2ReportKind } from './mapping.js';
import type { VirusTotalV2Options } from './options.js';

/** The EICAR test file's MD5: a tiny, always-known file/report for health checks. */
const EICAR_MD5 = '44d88612fea8a8f36de82e1278abb02f';

type BatchKind = Extract<V2ReportKind, 'file' | 'url'>;

/**
 * The VirusTotal API v2 provider. One instance per configured provider, built by core's
 * container with the instance's validated options and rate-limited HTTP client.
 */
@injectable()
export class VirusTotalV2Provider implements EnrichmentProvider {
  private readonly client: VirusTotalV2Client;

  constructor(
    @inject(Tokens.ProviderOptions) private readonly options: VirusTotalV2Options,
    @inject(Tokens.HttpClient) http: HttpClient,
  ) {
    this.client = new VirusTotalV2Client(http, options);
  }

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
   * If every request fails, the first failure is thrown (so the engine's retry applies to the
   * whole group); otherwise only the affected inputs get an `Error` entry.
   */
  async enrichMany(observables: readonly Observable[], context: EnrichContext): Promise<Array<ProviderOutcome | Error>> {
    const results = new Array<ProviderOutcome | Error | undefined>(observables.length);
    const batches = new Map<BatchKind, Map<string, number[]>>();
    const tasks: Array<Promise<void>> = [];

    observables.forEach((observable, index) => {
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
    const firstFailure = settled.find((entry): entry is PromiseRejectedResult => entry.status === 'rejected');
    if (firstFailure && settled.every((entry) => entry.status === 'rejected')) throw firstFailure.reason;
    // Every slot is filled above; the fallback only guards against a bookkeeping bug.
    return results.map((result, index) => result ?? new UpstreamError('bad_response', `VirusTotal v2 gave no answer for ${observables[index]!.type} ${observables[index]!.value}.`));
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
