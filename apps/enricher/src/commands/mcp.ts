import { createAdmission, lookupCapacity } from '../admission.js';
import { appVersion } from '../app-dir.js';
import { loadAppConfig } from '../app-config.js';
import { ExitCode, STOP_SIGNALS } from '../exit-codes.js';
import type { LogLevel } from '../logger.js';
import { commandLogger, openEnricher } from '../open-enricher.js';


export interface McpOptions {
  config?: string;
  logLevel?: LogLevel;
  cacheDir?: string;
}

/**
 * `x-enrich mcp`: a Model Context Protocol server on stdin/stdout, what desktop and IDE agents
 * launch. stdout carries only protocol messages; logs go to stderr (the client shows or keeps
 * them). It uses the CLI's stores (the file cache and quota), so an agent and a person at the
 * terminal share one cache and one budget. It runs until stdin closes or a stop signal.
 */
export async function mcpCommand(options: McpOptions): Promise<ExitCode> {
  const { config, dir, path } = await loadAppConfig(options.config);
  const logger = commandLogger(options.logLevel, 'warn');
  const opened = await openEnricher({ config, configDir: dir, configPath: path, logger, stores: { mode: 'cli', cacheDir: options.cacheDir } });
  try {
    const [{ StdioServerTransport }, { createMcpServer }] = await Promise.all([import('@modelcontextprotocol/sdk/server/stdio.js'), import('../mcp/server.js')]);
    // Calls running at once share the bulkheads: each waits for room instead of failing lookups.
    const admission = createAdmission(lookupCapacity(config), config.concurrency);
    const server = createMcpServer({ enricher: opened.enricher, version: appVersion(), maxObservables: config.mcp.maxObservables, providers: await opened.enricher.providers(), admission });
    const transport = new StdioServerTransport();
    const stopped = new Promise<void>((resolve) => {
      // The client closing our stdin is how an agent says goodbye; closing the server aborts
      // the lookups of every call still running (the SDK aborts each handler's signal).
      process.stdin.once('end', () => resolve());
      process.stdin.once('close', () => resolve());
      for (const signal of STOP_SIGNALS) process.once(signal, () => resolve());
      server.server.onclose = () => resolve();
    });
    await server.connect(transport);
    logger.info({ tools: ['enrich', 'list_providers', 'explain'] }, `x-enrich ${appVersion()} MCP server on stdio`);
    await stopped;
    await server.close().catch(() => undefined);
  } finally {
    await opened.close();
  }
  return ExitCode.Ok;
}
