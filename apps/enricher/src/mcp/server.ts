/**
 * The Model Context Protocol surface of x-enrich: the same engine (config, cache, quota) as
 * `enrich` and `serve`, offered to AI agents as tools and resources. Built on the official SDK
 * (`@modelcontextprotocol/sdk`): it speaks the protocol, validates tool input and output against
 * the schemas below, and turns malformed calls into protocol errors. Transports live elsewhere
 * (`commands/mcp.ts` for stdio, `mcp/http.ts` for Streamable HTTP in `serve`).
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import {
  OBSERVABLE_TYPES,
  formatDuration,
  isXEnrichError,
  XEnrichError,
  zObservableSummary,
  zResultRecord,
  type Enricher,
  type EnricherStats,
  type ObservableSummary,
  type ProviderInfo,
  type ResultRecord,
} from '@x/core';
import type { Admission } from '../admission.js';
import { slowestInstance, humanDuration } from '../progress.js';

export interface McpServerOptions {
  enricher: Enricher;
  version: string;
  /** Most observables one `enrich` call may carry. */
  maxObservables: number;
  /** The instances at start-up, for the tool descriptions (rate limits are static per run). */
  providers: readonly ProviderInfo[];
  /**
   * The service's admission control (shared with `POST /v1/enrich`): a call waits until its
   * lookups fit in the instances' bulkheads, instead of failing them with X_BULKHEAD_FULL.
   */
  admission?: Admission;
}

const ADMISSION_POLL_MS = 50;

/** Waits until `admission` takes the call (backpressure); rejects with X_ABORTED when the call is cancelled. */
async function admitted(admission: Admission | undefined, instances: readonly string[], observables: number, signal: AbortSignal): Promise<() => void> {
  if (!admission) return () => undefined;
  for (;;) {
    const release = admission.tryAdmit(instances, observables);
    if (release) return release;
    if (signal.aborted) throw new XEnrichError('X_ABORTED', 'The call was cancelled while waiting for capacity.');
    await new Promise((resolve) => setTimeout(resolve, ADMISSION_POLL_MS));
  }
}

const zRateWindow = z.object({
  requests: z.number().describe('Requests allowed per window.'),
  per: z.string().describe('The window, e.g. `1m`, `1d`.'),
  remaining: z.number().describe('Budget left in this window now.'),
});

const zProviderEntry = z.object({
  name: z.string().describe('Instance name (pass it in `providers`).'),
  plugin: z.string(),
  version: z.string(),
  types: z.array(z.string()).describe('Observable types it looks up.'),
  lifecycle: z.string().describe('active, deprecated or end-of-life.'),
  circuit: z.string().describe('closed (working), open (failing fast after repeated failures) or half-open (probing).'),
  rateLimit: z.array(zRateWindow).describe('Its quota windows; empty: unlimited.'),
  waitingForQuota: z.number().describe('Lookups waiting for quota right now.'),
});
type ProviderEntry = z.output<typeof zProviderEntry>;

/**
 * An item whose JSON Schema (what clients see in `tools/list`) is `schema`'s, but which the SDK
 * does not parse again on every call: the engine already guarantees the result format, and
 * re-parsing 200 records with zod took about half of a cached 100-observable call.
 */
function described(schema: z.ZodType): z.ZodType {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'draft-7', io: 'output' }) as Record<string, unknown>;
  return z.unknown().meta(json);
}

const zEnrichOutput = {
  complete: z.boolean().describe('False when the call was cancelled before every lookup finished.'),
  summaries: z.array(described(zObservableSummary)).describe('One per observable, in input order: the worst verdict across providers.'),
  records: z.array(described(zResultRecord)).describe('One per observable x provider (docs/reference/result-format.md).'),
};

const zExplainOutput = {
  observable: z.string(),
  provider: z.string(),
  status: z.string(),
  verdict: z.string(),
  confidence: z.string().nullable(),
  decidedBy: z
    .object({ rule: z.string(), message: z.string(), values: z.record(z.string(), z.unknown()).optional() })
    .nullable()
    .describe('The first rule that decided the verdict, with the values it saw; null when none applied.'),
  otherReasons: z.array(z.object({ rule: z.string(), message: z.string() })).describe('Further reasons the provider gave.'),
  cache: z.object({ hit: z.boolean(), ageSeconds: z.number().nullable(), storedAt: z.string().nullable() }).describe('Whether the answer came from the cache, and how old it is.'),
  fetchedAt: z.string().nullable().describe('When the data was fetched from the provider.'),
  analysisDate: z.string().nullable().describe("The provider's own analysis date of the data, when it reports one."),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
};

/** Extracted fields that carry a provider's own analysis date, in the order they are preferred. */
const ANALYSIS_DATE_FIELDS = ['last_analysis_date', 'analysis_date', 'scanDate', 'scan_date', 'last_seen', 'lastSeen'];

function analysisDateOf(extracted: Record<string, unknown>): string | null {
  for (const field of ANALYSIS_DATE_FIELDS) {
    const value = extracted[field];
    if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
  }
  return null;
}

function providerEntry(info: ProviderInfo, stats: EnricherStats): ProviderEntry {
  return {
    name: info.name,
    plugin: info.plugin,
    version: info.version,
    types: [...info.types],
    lifecycle: info.lifecycle.status,
    circuit: info.circuitState,
    rateLimit: info.rateLimit.map((window) => ({ requests: window.requests, per: formatDuration(window.perMs), remaining: window.remaining })),
    waitingForQuota: stats[info.name]?.waitingForQuota ?? 0,
  };
}

async function providerEntries(enricher: Enricher): Promise<ProviderEntry[]> {
  const infos = await enricher.providers();
  const stats = enricher.stats();
  return infos.map((info) => providerEntry(info, stats));
}

/** What a batch costs, for the tool description: an agent must not fire 500 lookups at a 4-a-minute key. */
export function quotaNote(providers: readonly ProviderInfo[], maxObservables: number): string {
  const limited = providers.filter((info) => info.rateLimit.length > 0);
  if (limited.length === 0) return 'No provider has a rate limit configured.';
  const windows = limited.map((info) => `${info.name}: ${info.rateLimit.map((w) => `${w.requests} per ${formatDuration(w.perMs)}`).join(', ')}`).join('; ');
  const full = slowestInstance(maxObservables, limited.map((info) => ({ name: info.name, windows: info.rateLimit.map((w) => ({ ...w, remaining: 0 })) })));
  const worst = full ? ` A full batch of ${maxObservables} new observables can take up to ${humanDuration(full.ms)} (held back by ${full.name}).` : '';
  return `Every observable not in the cache costs one request of each provider's quota (${windows}); cached ones are free and instant.${worst} Prefer small batches and the cache-only resource x-enrich://enrichments/{type}/{value}.`;
}

function recordLine(record: ResultRecord): string {
  const confidence = record.confidence ? `/${record.confidence}` : '';
  const why = record.error ? ` (${record.error.code})` : record.reasons[0] ? ` (${record.reasons[0].message})` : '';
  return `${record.provider.name}: ${record.status === 'ok' ? `${record.verdict}${confidence}` : record.status}${why}`;
}

/** The short rendering an agent can quote: one line per observable. */
function enrichText(summaries: readonly ObservableSummary[], records: readonly ResultRecord[], complete: boolean): string {
  const byInput = new Map<number, ResultRecord[]>();
  const perInput = summaries.length ? records.length / summaries.length : 0;
  summaries.forEach((_summary, i) => byInput.set(i, records.slice(i * perInput, (i + 1) * perInput)));
  const lines = summaries.map((summary, i) => {
    const name = summary.observable ? `${summary.observable.type}:${summary.observable.value}` : JSON.stringify(summary.input);
    return `${name} — ${summary.verdict}; ${(byInput.get(i) ?? []).map(recordLine).join('; ')}`;
  });
  const n = summaries.length;
  lines.push(complete ? `${n} observable${n === 1 ? '' : 's'} enriched.` : `Cancelled: ${n} observable${n === 1 ? '' : 's'} finished before the call stopped.`);
  return lines.join('\n');
}

function toolError(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** A caller mistake the engine rejects (an unknown provider name) becomes a tool error the agent can read. */
function callerMistake(error: unknown): CallToolResult {
  if (isXEnrichError(error)) return toolError(`${error.message} (${error.code})`);
  throw error;
}

export function createMcpServer(options: McpServerOptions): McpServer {
  const { enricher, maxObservables } = options;
  const server = new McpServer(
    { name: 'x-enrich', version: options.version },
    {
      capabilities: { logging: {} },
      instructions:
        'x-enrich looks up indicators (IPs, domains, URLs, file hashes) with threat-intelligence providers and returns verdicts with the rules that decided them. ' +
        'Lookups spend the providers\' quota unless cached: read x-enrich://providers for the remaining budget before a large batch.',
    },
  );
  const names = options.providers.map((info) => info.name);
  const note = quotaNote(options.providers, maxObservables);

  server.registerTool(
    'enrich',
    {
      title: 'Enrich indicators',
      description:
        `Look up indicators (IPv4/IPv6 addresses, domains, URLs, MD5/SHA-1/SHA-256 hashes; raw, defanged like hxxp://evil[.]com, or type:value) with the configured providers (${names.join(', ')}). ` +
        `Returns one summary per indicator (worst verdict: malicious > suspicious > benign > unknown) and one record per indicator and provider with the reasons, extracted fields and errors. ` +
        `At most ${maxObservables} per call. ${note} Reports progress for long batches and stops when cancelled.`,
      inputSchema: {
        observables: z
          .array(z.string().min(1).max(8192))
          .min(1)
          .max(maxObservables, { message: `at most ${maxObservables} observables per call: split the batch (each new observable spends quota)` })
          .describe('Indicators to look up.'),
        providers: z.array(z.string()).optional().describe(`Only these provider instances (default: all): ${names.join(', ')}.`),
        refresh: z.boolean().optional().describe('Ignore cached results and ask the providers again (spends quota).'),
      },
      outputSchema: zEnrichOutput,
      annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true },
    },
    async ({ observables, providers, refresh }, extra) => {
      const progressToken = extra._meta?.progressToken;
      const summaries: ObservableSummary[] = [];
      const records: ResultRecord[] = [];
      let release: (() => void) | undefined;
      try {
        release = await admitted(options.admission, providers ?? names, observables.length, extra.signal);
        for await (const item of enricher.stream(observables, { signal: extra.signal, providers, refresh: refresh ?? false })) {
          summaries.push(item.summary);
          records.push(...item.records);
          if (progressToken !== undefined) {
            await extra.sendNotification({
              method: 'notifications/progress',
              params: { progressToken, progress: summaries.length, total: observables.length, message: `${summaries.length} of ${observables.length} enriched` },
            });
          }
        }
      } catch (error) {
        return callerMistake(error);
      } finally {
        release?.();
      }
      const complete = !extra.signal.aborted && summaries.length === observables.length;
      const structuredContent = { complete, summaries, records };
      return { structuredContent, content: [{ type: 'text', text: enrichText(summaries, records, complete) }] };
    },
  );

  server.registerTool(
    'list_providers',
    {
      title: 'List providers',
      description: 'The configured provider instances: observable types, lifecycle, circuit state and the quota left in each rate-limit window. Costs no quota.',
      outputSchema: { providers: z.array(zProviderEntry) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => {
      const providers = await providerEntries(enricher);
      const text = providers
        .map((p) => `${p.name} (${p.plugin} ${p.version}, ${p.lifecycle}): ${p.types.join(', ')}; circuit ${p.circuit}; ${p.rateLimit.length ? p.rateLimit.map((w) => `${w.remaining}/${w.requests} left per ${w.per}`).join(', ') : 'no rate limit'}`)
        .join('\n');
      return { structuredContent: { providers }, content: [{ type: 'text', text }] };
    },
  );

  server.registerTool(
    'explain',
    {
      title: 'Explain a verdict',
      description:
        'For one indicator and one provider: which rule decided the verdict and the values it saw, how old the cached answer is, and the provider\'s own analysis date — what you need to justify a conclusion. ' +
        'Answers from the cache when it can; otherwise it looks the indicator up, which costs one request of that provider\'s quota.',
      inputSchema: {
        observable: z.string().min(1).max(8192).describe('One indicator (raw, defanged or type:value).'),
        provider: z.string().describe(`The provider instance: ${names.join(', ')}.`),
      },
      outputSchema: zExplainOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ observable, provider }, extra) => {
      let record: ResultRecord | undefined;
      try {
        record = (await enricher.enrich([observable], { providers: [provider], signal: extra.signal })).records[0];
      } catch (error) {
        return callerMistake(error);
      }
      if (!record) return toolError(`No record for ${observable} from ${provider}.`);
      const [first, ...rest] = record.reasons;
      const out = {
        observable: record.observable ? `${record.observable.type}:${record.observable.value}` : record.input,
        provider: record.provider.name,
        status: record.status,
        verdict: record.verdict,
        confidence: record.confidence,
        decidedBy: first ?? null,
        otherReasons: rest.map(({ rule, message }) => ({ rule, message })),
        cache: record.cache,
        fetchedAt: record.fetchedAt,
        analysisDate: analysisDateOf(record.extracted),
        error: record.error ? { code: record.error.code, message: record.error.message } : null,
      };
      const age = record.cache.hit && record.cache.ageSeconds !== null ? `cached ${humanDuration(record.cache.ageSeconds * 1000)} ago` : 'fetched now';
      const text = [
        `${out.observable} per ${out.provider}: ${record.status === 'ok' ? `${record.verdict}${record.confidence ? ` (${record.confidence} confidence)` : ''}` : record.status}.`,
        first ? `Decided by ${first.rule}: ${first.message}.` : record.error ? `Error ${record.error.code}: ${record.error.message}` : 'No rule applied.',
        `Data ${age}${out.analysisDate ? `; the provider analysed it at ${out.analysisDate}` : ''}.`,
      ].join('\n');
      return { structuredContent: out, content: [{ type: 'text', text }] };
    },
  );

  server.registerResource(
    'enrichment',
    new ResourceTemplate('x-enrich://enrichments/{type}/{value}', { list: undefined }),
    {
      title: 'Cached enrichment',
      description: `The cached result of every provider for one indicator (type one of ${OBSERVABLE_TYPES.join(', ')}; value percent-encoded). Answers from the cache only and never spends quota: records that are not cached say status skipped with code X_NOT_CACHED.`,
      mimeType: 'application/json',
    },
    async (uri, variables) => {
      const type = String(variables.type);
      const value = decodeURIComponent(String(variables.value));
      const { records, summaries } = await enricher.enrich([`${type}:${value}`], { cacheOnly: true });
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ summary: summaries[0], records }) }] };
    },
  );

  server.registerResource(
    'providers',
    'x-enrich://providers',
    { title: 'Providers', description: 'Configured provider instances with circuit state and remaining quota.', mimeType: 'application/json' },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ providers: await providerEntries(enricher) }) }],
    }),
  );

  return server;
}
