// MCP latency: an `enrich` tool call of 100 cached observables, from request to result, over
// stdio (`x-enrich mcp`) and over Streamable HTTP (`/mcp` in `serve`), driven by the MCP SDK's
// own client. Goal: under 50 ms. Used by bench/run.js; also runnable alone after a build.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const p95 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)];

/** Median and p95 of `runs` calls of 100 observables, after one warm-up call that fills the cache. */
async function measure(client, observables, runs) {
  await client.callTool({ name: 'enrich', arguments: { observables } });
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const started = process.hrtime.bigint();
    const result = await client.callTool({ name: 'enrich', arguments: { observables } });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.isError || !result.structuredContent.records.every((record) => record.cache.hit)) throw new Error('bench: expected 100 cached records');
  }
  return { medianMs: Number(median(times).toFixed(1)), p95Ms: Number(p95(times).toFixed(1)), runs, goalMs: 50 };
}

export async function benchMcp({ cli, config, dir, runs = 30 }) {
  const observables = Array.from({ length: 100 }, (_, i) => `11.77.${i >> 8}.${i & 255}`);
  const results = {};

  const stdio = new Client({ name: 'bench', version: '1' });
  await stdio.connect(new StdioClientTransport({ command: process.execPath, args: [cli, '--config', config, '--log-level', 'error', 'mcp', '--cache-dir', join(dir, 'mcp-stdio')], cwd: dir, stderr: 'ignore' }));
  try {
    results.stdio = await measure(stdio, observables, runs);
  } finally {
    await stdio.close();
  }

  const serve = spawn(process.execPath, [cli, '--config', config, '--log-level', 'error', 'serve', '--port', '0', '--cache-dir', join(dir, 'mcp-http')], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const base = await new Promise((resolve) => {
      let seen = '';
      serve.stdout.on('data', (chunk) => {
        seen += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(seen);
        if (match) resolve(match[1]);
      });
    });
    const http = new Client({ name: 'bench', version: '1' });
    await http.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    try {
      results.http = await measure(http, observables, runs);
    } finally {
      await http.close();
    }
  } finally {
    serve.kill('SIGTERM');
  }
  return results;
}
