import { readFileSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { loadAppConfig } from '../app-config.js';
import { ExitCode } from '../exit-codes.js';
import type { LogLevel } from '../logger.js';
import { commandLogger, openEnricher, type OpenedEnricher } from '../open-enricher.js';
import { buildServer } from '../server/app.js';
import { createServiceMetrics } from '../server/metrics.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export interface ServeOptions {
  config?: string;
  logLevel?: LogLevel;
  host?: string;
  port?: number;
  cacheDir?: string;
}

/**
 * Runs the HTTP service until SIGTERM or SIGINT, then stops accepting connections, lets the
 * requests in flight finish (up to `server.shutdownGrace`), closes the providers and exits 0.
 */
export async function serveCommand(options: ServeOptions): Promise<ExitCode> {
  const { config, dir } = await loadAppConfig(options.config);
  const logger = commandLogger(options.logLevel, 'info');
  // Metrics exist before the engine so they see its load-time events; they read the providers once it exists.
  const engine: { current?: OpenedEnricher } = {};
  const metrics = createServiceMetrics(
    async () => (engine.current ? engine.current.enricher.providers() : []),
    () => engine.current?.stores.sharedStores() ?? [],
  );
  const opened = await openEnricher({
    config,
    configDir: dir,
    logger,
    stores: { mode: 'serve', cacheDir: options.cacheDir },
    onEvent: (event) => metrics.onEvent(event),
  });
  engine.current = opened;
  const token = config.server.token ?? (process.env.X_ENRICH_TOKEN || undefined);
  // The app logger is a pino instance, which is what fastify expects.
  const app = await buildServer({ enricher: opened.enricher, server: config.server, token, metrics, version, logger: logger as unknown as FastifyBaseLogger });
  const host = options.host ?? config.server.host;
  const port = options.port ?? config.server.port;
  const address = await app.listen({ host, port });
  logger.info({ address, auth: token ? 'bearer' : 'none', stores: opened.stores.description }, `x-enrich ${version} listening on ${address}`);
  if (!token && host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    logger.warn({ host }, 'listening beyond loopback without a token: set server.token or X_ENRICH_TOKEN');
  }
  // Tests and scripts read this line to find the port.
  process.stdout.write(`listening on ${address}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down: finishing requests in flight');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  const grace = new Promise((resolve) => setTimeout(resolve, config.server.shutdownGrace).unref());
  await Promise.race([app.close(), grace]);
  await Promise.race([opened.close(), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  return ExitCode.Ok;
}
