import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseQuota, type QuotaWindow } from './options.js';
import { startSimulator, type Simulator } from './server.js';

const collect = <T>(parse: (text: string) => T) => (value: string, previous: T[] | undefined) => [...(previous ?? []), parse(value)];

function number(name: string, min: number, max = Number.POSITIVE_INFINITY) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) throw new InvalidArgumentError(`${name} must be a number from ${min}${Number.isFinite(max) ? ` to ${max}` : ''}`);
    return value;
  };
}

function quota(text: string): QuotaWindow {
  try {
    return parseQuota(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** Where the CLI writes (process.stdout/stderr in the binary, a buffer in tests). */
export interface CliIo {
  write(text: string): void;
  error(text: string): void;
}

/**
 * Parses `vt-sim` arguments (without `node` and the script) and starts the simulator. Resolves
 * to the running simulator, or to undefined for `--help`; bad flags reject with commander's
 * error (already written to `io.error`).
 */
export async function runCli(args: string[], io: CliIo): Promise<Simulator | undefined> {
  let simulator: Simulator | undefined;
  const program = new Command()
    .name('vt-sim')
    .description(
      'A VirusTotal API v3 (/api/v3) and v2 (/vtapi/v2) simulator for tests, benchmarks and demos.\n' +
        'Prints "listening on http://HOST:PORT" as its first line. Counters: GET /__sim/stats; reset: POST /__sim/reset;\n' +
        'faults at run time: POST /__sim/faults with a JSON body. Outcomes are chosen by reserved values (see the README).',
    )
    .addOption(new Option('--port <port>', 'port to listen on (0: an ephemeral port)').default(0).argParser(number('--port', 0, 65_535)))
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--api-key <key>', 'an accepted API key; repeat for several; "*" accepts any key (default: test-key)').argParser(collect(String)))
    .addOption(new Option('--quota <N/unit>', 'per-key quota window: N/s, N/min, N/h or N/day; repeat for several windows (default: no limit)').argParser(collect(quota)))
    .addOption(new Option('--quota-mode <mode>', 'how quota windows count arrivals: sliding (at most N in any window) or fixed (N per clock-aligned window)').choices(['sliding', 'fixed']).default('sliding'))
    .addOption(new Option('--seed <seed>', 'seed of every generated verdict and fault').default('x-enrich'))
    .addOption(new Option('--fixtures <dir>', 'folder of captured v3/v2 responses served for their own observables; repeatable').argParser(collect(String)))
    .addOption(new Option('--latency <ms>', 'fixed delay added to every API response').default(0).argParser(number('--latency', 0)))
    .addOption(new Option('--jitter <ms>', 'extra random delay in [0, ms]').default(0).argParser(number('--jitter', 0)))
    .addOption(new Option('--error-rate <rate>', 'share (0-1) of requests answered with 500/502/503').default(0).argParser(number('--error-rate', 0, 1)))
    .addOption(new Option('--reset-rate <rate>', 'share (0-1) of connections destroyed without a response').default(0).argParser(number('--reset-rate', 0, 1)))
    .addOption(new Option('--malformed-rate <rate>', 'share (0-1) of JSON bodies made unparseable').default(0).argParser(number('--malformed-rate', 0, 1)))
    .addOption(new Option('--truncate-rate <rate>', 'share (0-1) of JSON bodies cut in half').default(0).argParser(number('--truncate-rate', 0, 1)))
    .addOption(new Option('--slow-body <ms>', 'drip every response body over this many ms').default(0).argParser(number('--slow-body', 0)))
    .addOption(new Option('--gti', 'serve gti_assessment on generated objects, as a Google Threat Intelligence key gets'))
    .addOption(new Option('--max-batch <n>', 'most resources in one v2 file/report or url/report request').default(25).argParser(number('--max-batch', 1)))
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.write(text), writeErr: (text) => io.error(text) })
    .action(async (opts: Record<string, unknown>) => {
      simulator = await startSimulator({
        port: opts.port as number,
        host: opts.host as string,
        ...(opts.apiKey ? { apiKeys: opts.apiKey as string[] } : {}),
        quotas: (opts.quota as QuotaWindow[] | undefined) ?? [],
        quotaMode: opts.quotaMode as 'sliding' | 'fixed',
        seed: opts.seed as string,
        ...(opts.fixtures ? { fixturesDir: opts.fixtures as string[] } : {}),
        maxBatch: opts.maxBatch as number,
        gti: opts.gti === true,
        faults: {
          latencyMs: opts.latency as number,
          jitterMs: opts.jitter as number,
          errorRate: opts.errorRate as number,
          resetRate: opts.resetRate as number,
          malformedRate: opts.malformedRate as number,
          truncateRate: opts.truncateRate as number,
          slowBodyMs: opts.slowBody as number,
        },
      });
      // The first line is a contract: scripts and tests wait for it and read the port from it.
      io.write(`listening on ${simulator.url}\n`);
      io.write(`v3: ${simulator.v3Url}  v2: ${simulator.v2Url}  stats: ${simulator.url}/__sim/stats\n`);
      // Two captures of one observable: the first is served; say which one lost, on stderr.
      for (const duplicate of simulator.fixtureDuplicates()) {
        io.error(`vt-sim: ${duplicate.api} capture ${duplicate.ignored} answers ${duplicate.key} like ${duplicate.kept}; serving the first\n`);
      }
    });
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && error.code === 'commander.helpDisplayed') return undefined;
    throw error;
  }
  return simulator;
}
