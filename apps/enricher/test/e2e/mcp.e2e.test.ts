import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zObservableSummary, zResultRecord } from '@x/core';
import { startSimulator, observableFor } from '@x/virustotal-simulator';
import { CLI, assertBuilt, childEnv, collect, listeningUrl, startCli, tempDir } from '../helpers/cli.js';

// The MCP surface driven by the official SDK client, over stdio (`x-enrich mcp`) and over
// Streamable HTTP (`/mcp` in `x-enrich serve`), against the VirusTotal simulator.
const KEY = 'mcp-e2e-simulator-key-SECRET-42';
const TOKEN = 'mcp-e2e-token-0123456789abcdef';
let simulator: Awaited<ReturnType<typeof startSimulator>>;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let config: string;
let slowConfig: string;
let base: string;

const MALICIOUS_IP = observableFor({ type: 'ipv4', malicious: 9, total: 70 });
const CLEAN_DOMAIN = observableFor({ type: 'domain', malicious: 0, total: 70 });

function vtConfig(rateLimit: string): string {
  return `providers:
  vt3:
    use: "@x/provider-virustotal-v3"
    options: { apiKey: "\${SIM_KEY}", baseUrl: "${simulator.v3Url}" }
    rateLimit: ${rateLimit}
mcp:
  maxObservables: 5
`;
}

beforeAll(async () => {
  assertBuilt();
  simulator = await startSimulator({ port: 0, apiKeys: [KEY] });
  tmp = await tempDir('x-enrich-mcp-');
  config = await tmp.write('x-enrich.yaml', vtConfig('false'));
  // One request a minute: the second lookup of a batch waits for quota, long enough to cancel.
  slowConfig = await tmp.write('slow.yaml', vtConfig('[{ requests: 1, per: 1m }]'));
  ({ base } = await startServe(config, 'serve-cache'));
});

const servers: ChildProcess[] = [];

/** `x-enrich serve --port 0` with the token; resolves once it prints its address. */
async function startServe(configPath: string, cacheDir: string): Promise<{ child: ChildProcess; base: string }> {
  const child = startCli(['--config', configPath, '--log-level', 'warn', 'serve', '--port', '0', '--cache-dir', join(tmp.dir, cacheDir)], { cwd: tmp.dir, env: { SIM_KEY: KEY, X_ENRICH_TOKEN: TOKEN } });
  servers.push(child);
  void collect(child, { timeoutMs: 600_000 }).catch(() => undefined);
  const url = await listeningUrl(child);
  return { child, base: url };
}

afterAll(async () => {
  for (const child of servers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await simulator?.close();
  await tmp?.cleanup();
});

function stdioTransport(configPath: string, cacheDir: string): { transport: StdioClientTransport; stderr: () => string } {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, '--config', configPath, '--log-level', 'debug', 'mcp', '--cache-dir', cacheDir],
    cwd: tmp.dir,
    env: childEnv({ SIM_KEY: KEY }) as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { transport, stderr: () => stderr };
}

function httpTransport(token = TOKEN, at = base): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(`${at}/mcp`), { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } });
}

async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'x-enrich-e2e', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

interface EnrichContent {
  complete: boolean;
  records: unknown[];
  summaries: unknown[];
}

async function waitingForQuota(client: Client): Promise<number> {
  const result = await client.callTool({ name: 'list_providers', arguments: {} });
  return (result.structuredContent as { providers: Array<{ waitingForQuota: number }> }).providers[0]!.waitingForQuota;
}

/** The same scenario over each transport: list, call every tool, read both resources. */
function toolsAndResources(open: () => Promise<{ client: Client; logs: () => string }>) {
  return async () => {
    const { client, logs } = await open();
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((tool) => tool.name).sort()).toEqual(['enrich', 'explain', 'list_providers']);
      for (const tool of tools.tools) expect(tool.outputSchema).toBeTruthy();
      expect(tools.tools.find((tool) => tool.name === 'enrich')!.description).toMatch(/At most 5 per call/);

      // Nothing cached yet: the cache-only resource spends no quota and says so.
      simulator.reset();
      const before = await client.readResource({ uri: `x-enrich://enrichments/ipv4/${MALICIOUS_IP}` });
      const cold = JSON.parse((before.contents[0] as { text: string }).text) as { records: Array<{ status: string; error: { code: string } }> };
      expect(cold.records[0]).toMatchObject({ status: 'skipped', error: { code: 'X_NOT_CACHED' } });
      expect(simulator.stats().total).toBe(0);

      const enriched = await client.callTool({ name: 'enrich', arguments: { observables: [MALICIOUS_IP, CLEAN_DOMAIN, 'not an observable'] } });
      expect(enriched.isError).toBeFalsy();
      const content = enriched.structuredContent as unknown as EnrichContent;
      expect(content.complete).toBe(true);
      const summaries = content.summaries.map((summary) => zObservableSummary.parse(summary));
      const records = content.records.map((record) => zResultRecord.parse(record));
      expect(summaries.map((summary) => summary.verdict)).toEqual(['malicious', 'benign', 'unknown']);
      expect(records[2]).toMatchObject({ status: 'error', error: { code: 'X_OBSERVABLE_INVALID' } });
      const text = (enriched.content as Array<{ text: string }>)[0]!.text;
      expect(text).toContain(`ipv4:${MALICIOUS_IP} — malicious`);
      expect(text).toContain('3 observables enriched.');
      expect(simulator.stats().total).toBe(2);

      // Now cached: the resource answers from the cache, still without an upstream call.
      const after = await client.readResource({ uri: `x-enrich://enrichments/ipv4/${MALICIOUS_IP}` });
      const warm = JSON.parse((after.contents[0] as { text: string }).text) as { summary: { verdict: string }; records: Array<{ cache: { hit: boolean } }> };
      expect(warm.summary.verdict).toBe('malicious');
      expect(warm.records[0]!.cache.hit).toBe(true);
      expect(simulator.stats().total).toBe(2);

      const explained = await client.callTool({ name: 'explain', arguments: { observable: MALICIOUS_IP, provider: 'vt3' } });
      const why = explained.structuredContent as { verdict: string; decidedBy: { rule: string; values: Record<string, unknown> }; cache: { hit: boolean; ageSeconds: number }; analysisDate: string | null };
      expect(why.verdict).toBe('malicious');
      expect(why.decidedBy.rule).toMatch(/malicious/);
      expect(why.decidedBy.values).toBeTruthy();
      expect(why.cache.hit).toBe(true);
      expect(typeof why.cache.ageSeconds).toBe('number');
      expect(why.analysisDate).toMatch(/^\d{4}-\d\d-\d\dT/);

      const listed = await client.callTool({ name: 'list_providers', arguments: {} });
      expect((listed.structuredContent as { providers: Array<{ name: string; circuit: string; lifecycle: string }> }).providers).toEqual([
        expect.objectContaining({ name: 'vt3', circuit: 'closed', lifecycle: 'active' }),
      ]);
      const providersResource = await client.readResource({ uri: 'x-enrich://providers' });
      expect(JSON.parse((providersResource.contents[0] as { text: string }).text).providers[0].name).toBe('vt3');

      // Caller mistakes: a tool error the agent can read, or a protocol error; never a crash.
      const tooMany = await client.callTool({ name: 'enrich', arguments: { observables: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5', '1.1.1.6'] } });
      expect(tooMany.isError).toBe(true);
      expect((tooMany.content as Array<{ text: string }>)[0]!.text).toMatch(/at most 5 observables per call/);
      const unknownProvider = await client.callTool({ name: 'enrich', arguments: { observables: ['1.1.1.1'], providers: ['nope'] } });
      expect(unknownProvider.isError).toBe(true);
      expect((unknownProvider.content as Array<{ text: string }>)[0]!.text).toMatch(/nope/);
      const malformed = await client.callTool({ name: 'enrich', arguments: { observables: 'not a list' } });
      expect(malformed.isError).toBe(true);
      await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).resolves.toMatchObject({ isError: true });
      // Still serving after all of that.
      expect((await client.callTool({ name: 'list_providers', arguments: {} })).isError).toBeFalsy();

      expect(JSON.stringify([tools, enriched, explained, listed]) + logs()).not.toContain(KEY);
    } finally {
      await client.close();
    }
  };
}

/** A batch whose second lookup waits a minute for quota; the client cancels after the first progress report. */
function cancelScenario(open: () => Promise<Client>, stop: 'cancel' | 'hang up' = 'cancel', reopen?: () => Promise<Client>) {
  return async () => {
    let client = await open();
    try {
      simulator.reset();
      const controller = new AbortController();
      const progress: number[] = [];
      const call = client.callTool({ name: 'enrich', arguments: { observables: ['198.51.100.1', '198.51.100.2', '198.51.100.3'] } }, undefined, {
        signal: controller.signal,
        onprogress: (notification) => {
          progress.push(notification.progress);
          // The first lookup went through; the next ones wait a minute for quota: stop now.
          if (stop === 'cancel') controller.abort('enough');
          else void client.close();
        },
      });
      await expect(call).rejects.toThrow();
      expect(progress).toEqual([1]);
      if (stop === 'hang up') client = await reopen!();
      // The waiting lookups were aborted: nobody waits for quota any more, and none was sent.
      for (let i = 0; i < 200 && (await waitingForQuota(client)) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await waitingForQuota(client)).toBe(0);
      expect(simulator.stats().total).toBe(1);
    } finally {
      await client.close();
    }
  };
}

describe('x-enrich mcp (stdio)', () => {
  it(
    'lists tools, calls each, reads both resources, and turns bad calls into errors',
    toolsAndResources(async () => {
      const { transport, stderr } = stdioTransport(config, join(tmp.dir, 'stdio-cache'));
      return { client: await connect(transport), logs: stderr };
    }),
  );

  it(
    'reports progress, and a cancelled call stops its lookups (no quota spent on them)',
    cancelScenario(async () => connect(stdioTransport(slowConfig, join(tmp.dir, 'stdio-slow-cache')).transport)),
  );

  it('exits when the client closes its stdin', async () => {
    const child = startCli(['--config', config, 'mcp', '--cache-dir', join(tmp.dir, 'stdio-exit')], { cwd: tmp.dir, env: { SIM_KEY: KEY } });
    const done = collect(child, { timeoutMs: 30_000 });
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
  });
});

describe('/mcp in x-enrich serve (Streamable HTTP)', () => {
  it(
    'lists tools, calls each, reads both resources, and turns bad calls into errors',
    toolsAndResources(async () => ({ client: await connect(httpTransport()), logs: () => '' })),
  );

  it(
    'reports progress over SSE, and a client that cancels stops its lookups',
    cancelScenario(async () => connect(httpTransport(TOKEN, (await startServe(slowConfig, 'serve-slow-cache')).base))),
  );

  it('a client that hangs up mid-batch stops its lookups', async () => {
    const slow = await startServe(slowConfig, 'serve-hangup-cache');
    await cancelScenario(() => connect(httpTransport(TOKEN, slow.base)), 'hang up', () => connect(httpTransport(TOKEN, slow.base)))();
  });

  it('refuses a missing or wrong token, and a foreign browser Origin', async () => {
    await expect(connect(httpTransport(''))).rejects.toThrow(/X_UNAUTHORIZED/);
    await expect(connect(httpTransport('wrong-token-0123456789abcdef'))).rejects.toThrow(/X_UNAUTHORIZED/);
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKEN}`, ...headers }, body: JSON.stringify(initialize) });
    const foreign = await post({ origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('X_ORIGIN_FORBIDDEN');
    expect((await post({ origin: base })).status).toBe(200);
    // Without a session: the specification's 400 (none given) and 404 (unknown or expired).
    expect((await fetch(`${base}/mcp`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(400);
    expect((await fetch(`${base}/mcp`, { headers: { authorization: `Bearer ${TOKEN}`, 'mcp-session-id': 'no-such-session' } })).status).toBe(404);
  });
});
