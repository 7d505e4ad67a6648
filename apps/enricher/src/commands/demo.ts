import { setMaxListeners } from 'node:events';
import { parseConfig } from '@x/core';
import { startSimulator } from '@x/virustotal-simulator';
import { zAppConfig } from '../app-config.js';
import { APP_DIR } from '../app-dir.js';
import { ExitCode, STOP_SIGNALS } from '../exit-codes.js';
import type { LogLevel } from '../logger.js';
import { commandLogger, openEnricher } from '../open-enricher.js';
import { createFormatter, type OutputFormat } from '../output/formats.js';
import { writeOut } from '../run-command.js';
import { runEnrichment } from './enrich.js';

/**
 * The sample: one observable per outcome, written with the simulator's reserved values
 * (packages/virustotal-simulator/README.md: hashes starting `00000000` + status + counts,
 * `<preset>.example` domains, 198.51.100.0/24 clean, 192.0.2.0/24 not found, 2001:db8:M:S:T::
 * counts), so the demo shows every verdict whatever the seed. Some are defanged on purpose.
 */
export const DEMO_OBSERVABLES: ReadonlyArray<{ value: string; shows: string }> = [
  { value: `000000001062000076${'0'.repeat(46)}`, shows: 'a file 62 of 76 engines flag: malicious, high confidence' },
  { value: 'hxxp://malicious[.]example/payload', shows: 'a defanged URL, refanged: malicious' },
  { value: `000000001003000076${'0'.repeat(22)}`, shows: 'a file (SHA-1) 3 engines flag: low confidence' },
  { value: 'suspicious[.]example', shows: 'a domain with a few suspicious votes' },
  { value: '198.51.100.7', shows: 'a clean IP address: benign' },
  { value: '192.0.2.1', shows: 'an IP VirusTotal has never seen: not found (not clean)' },
  { value: `000000002000000000${'0'.repeat(14)}`, shows: 'a file queued for analysis: pending in v2' },
  { value: '2001:db8:0:4:70::1', shows: 'an IPv6 address with suspicious votes: v3 only, unsupported by v2' },
];

// A key the demo's own simulator accepts; it is not a VirusTotal key.
const DEMO_KEY = 'x-enrich-demo';


const NEXT_STEPS = `
Where to go next:
  - Your own observables against the simulator:
      pnpm vt-sim --port 8787 &
      pnpm x-enrich --config examples/x-enrich.simulator.yaml enrich 8.8.8.8 'hxxp://evil[.]example/x'
  - The real VirusTotal: export VIRUSTOTAL_API_KEY=...; pnpm x-enrich --config examples/x-enrich.virustotal.yaml enrich <observable>
  - Other formats: --format json | jsonl | csv | stix, or -o FILE
  - The HTTP service and its API page: pnpm x-enrich --config examples/x-enrich.simulator.yaml serve, then open http://127.0.0.1:8080/docs
  - Docs: docs/getting-started.md, docs/cli.md, docs/writing-a-provider.md
`;

/**
 * `x-enrich demo`: starts the VirusTotal simulator on a free loopback port, enriches the sample
 * with both VirusTotal providers (v2 is End-of-Life, and says so), prints the result and where
 * to go next. No key, no config file, no internet; nothing is cached on disk.
 */
export async function demoCommand(options: { logLevel?: LogLevel; format: OutputFormat }): Promise<ExitCode> {
  const simulator = await startSimulator({ port: 0, apiKeys: [DEMO_KEY] });
  const logger = commandLogger(options.logLevel, 'warn');
  try {
    const config = parseConfig(
      {
        providers: {
          vt3: { use: '@x/provider-virustotal-v3', options: { apiKey: DEMO_KEY, baseUrl: simulator.v3Url }, rateLimit: false },
          vt2: { use: '@x/provider-virustotal-v2', options: { apiKey: DEMO_KEY, apiUrl: simulator.v2Url }, rateLimit: false },
        },
        cache: { store: 'memory' },
      },
      { env: {}, schema: zAppConfig, source: '(demo)' },
    );
    // First, before anything else: none of what follows is real intelligence.
    process.stderr.write(
      `x-enrich demo: SYNTHETIC data, made up by the VirusTotal simulator bundled with x-enrich (no key, no internet).\n` +
        `Simulator (packages/virustotal-simulator) on ${simulator.url}: ${DEMO_OBSERVABLES.length} observables, vt3 (API v3) and vt2 (API v2, End of Life).\n\n`,
    );
    const opened = await openEnricher({ config, configDir: APP_DIR, logger, stores: { mode: 'serve' } });
    try {
      const controller = new AbortController();
      setMaxListeners(0, controller.signal);
      const stop = () => controller.abort();
      for (const signal of STOP_SIGNALS) process.once(signal, stop);
      const tally = await runEnrichment({
        stream: opened.enricher.stream(DEMO_OBSERVABLES.map((sample) => sample.value), { signal: controller.signal }),
        formatter: await createFormatter(options.format, { color: Boolean(process.stdout.isTTY), width: () => process.stdout.columns }),
        write: (text) => writeOut(text),
        signal: controller.signal,
      });
      for (const signal of STOP_SIGNALS) process.off(signal, stop);
      if (options.format === 'table') await writeOut(NEXT_STEPS);
      else process.stderr.write(NEXT_STEPS);
      return tally.interrupted ? ExitCode.Interrupted : ExitCode.Ok;
    } finally {
      await opened.close();
    }
  } finally {
    await simulator.close();
  }
}
