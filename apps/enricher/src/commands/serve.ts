import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { admissibleConcurrency, createAdmission, lookupCapacity } from '../admission.js';
import { appVersion } from '../app-dir.js';
import { loadAppConfig, serverToken } from '../app-config.js';
import { ExitCode, STOP_SIGNALS } from '../exit-codes.js';
import type { LogLevel } from '../logger.js';
import { commandLogger, openEnricher, type OpenedEnricher } from '../open-enricher.js';
import { buildServer } from '../server/app.js';
import { addressUrl, describeListening, isLoopback, listenError } from '../server/listen.js';
import { createServiceMetrics } from '../server/metrics.js';


export interface ServeOptions {
  config?: string;
  logLevel?: LogLevel;
  host?: string;
  port?: number;
  cacheDir?: string;
}

const SERVICE_LOG_BUFFER_MS = 100;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Runs the HTTP service until SIGTERM, SIGINT or SIGHUP, then stops accepting connections, lets the
 * requests in flight finish (up to `server.shutdownGrace`), answers those still running with
 * 503 X_SHUTTING_DOWN, closes the providers and exits 0.
 */
export async function serveCommand(options: ServeOptions): Promise<ExitCode> {
  const { config, dir, path } = await loadAppConfig(options.config);
  // After a 401/403 the CLI stops calling an instance for the run; a service runs for days, so it
  // probes once a minute and resumes when the key is fixed (a rotated secret) without a restart.
  for (const instance of Object.values(config.providers)) instance.resilience.authProbeAfter ??= 60_000;
  const capacity = lookupCapacity(config);
  config.concurrency = admissibleConcurrency(config.concurrency, capacity);
  // Before anything starts: a weak token from the environment must not reach a listening port.
  const token = serverToken(config.server);
  // A line per request: off a terminal they go out in batches, at most 100 ms late (logger.ts).
  const logger = commandLogger(options.logLevel, 'info', { bufferMs: SERVICE_LOG_BUFFER_MS });
  // Metrics exist before the engine so they see its load-time events; once it exists they read
  // its synchronous stats at scrape time (the quota as last known: no store call per scrape).
  const engine: { current?: OpenedEnricher } = {};
  const sharedStores = () => engine.current?.stores.sharedStores() ?? [];
  const metrics = createServiceMetrics(() => engine.current?.enricher.stats(), sharedStores);
  const opened = await openEnricher({
    config,
    configDir: dir,
    configPath: path,
    logger,
    stores: { mode: 'serve', cacheDir: options.cacheDir },
    onEvent: (event) => metrics.onEvent(event),
  });
  engine.current = opened;
  const shutdown = new AbortController();
  // One listener per request in flight (up to what admission lets in): not a leak.
  setMaxListeners(0, shutdown.signal);
  let app: FastifyInstance;
  const host = options.host ?? config.server.host;
  const port = options.port ?? config.server.port;
  try {
    // The app logger is a pino instance, which is what fastify expects.
    app = await buildServer({
      enricher: opened.enricher,
      server: config.server,
      token,
      metrics,
      version: appVersion(),
      logger: logger as unknown as FastifyBaseLogger,
      sharedStores,
      shutdownSignal: shutdown.signal,
      mcp: config.mcp,
      admission: createAdmission(capacity, config.concurrency),
    });
    await app.listen({ host, port });
  } catch (error) {
    await opened.close();
    throw listenError(error, host, port) ?? error;
  }
  // What is actually bound (fastify's return value names one reachable address, which for
  // 0.0.0.0 is 127.0.0.1 and hides that the service is exposed): the main address first.
  const main = app.server.address() as AddressInfo;
  // Always AddressInfo here: the service listens on TCP, never on a pipe path.
  const bound = [main, ...(app.addresses() as AddressInfo[]).filter((address) => address.address !== main.address)];
  const listening = describeListening(bound);
  // The one "listening on" line is on stdout (scripts read it); the log says the rest once.
  logger.info(
    // Nested, so a terminal's line (which shows only flat fields) does not say it twice.
    { service: { addresses: bound.map(addressUrl), auth: token ? 'bearer' : 'none', stores: opened.stores.description } },
    `x-enrich ${appVersion()} started: auth ${token ? 'bearer token' : 'none'}; ${opened.stores.description}; API page ${addressUrl(main)}/docs`,
  );
  if (!token && bound.some((address) => !isLoopback(address.address))) {
    logger.warn({ host }, 'listening beyond loopback without a token: set server.token or X_ENRICH_TOKEN');
  }
  // Tests and scripts read this line to find the port.
  process.stdout.write(`listening on ${listening}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down: finishing requests in flight');
      resolve();
    };
    for (const signal of STOP_SIGNALS) process.once(signal, stop);
  });
  const closed = app.close();
  const finished = await Promise.race([closed.then(() => true), delay(config.server.shutdownGrace).then(() => false)]);
  if (!finished) {
    // Exiting now would drop their connections (an empty reply): abort their lookups instead,
    // so each answers 503 X_SHUTTING_DOWN, and give the answers a moment to go out.
    logger.warn({ shutdownGrace: config.server.shutdownGrace }, 'shutdownGrace ran out: answering the requests still in flight with 503 X_SHUTTING_DOWN');
    shutdown.abort();
    await Promise.race([closed, delay(2_000)]);
  }
  await Promise.race([opened.close(), delay(2_000)]);
  return ExitCode.Ok;
}
