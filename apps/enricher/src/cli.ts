#!/usr/bin/env node
/**
 * `x-enrich`: the command-line entry. Each command's module is imported only when it runs, so
 * `x-enrich enrich` never loads fastify or prom-client and starts fast.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { appVersion } from './app-dir.js';
import { runCommand } from './run-command.js';
import { INPUT_FORMATS, LOG_LEVELS, OUTPUT_FORMATS } from './choices.js';

function positiveInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return number;
}

function port(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65_535) throw new InvalidArgumentError('expected a port from 0 to 65535');
  return number;
}

/** An Examples section under a command's --help: what people copy first. */
function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => (line.startsWith('#') ? `  ${line}` : `  $ ${line}`)).join('\n')}\n`;
}

/** The commander program (exported for test/command-names.test.ts). */
export const program = new Command('x-enrich')
  .description('Threat-intelligence enrichment: observables in, verdicts out, from provider plugins named in a config file.')
  .version(appVersion(), '-V, --version')
  .option('-c, --config <file>', 'config file (YAML or JSON); default: ./x-enrich.yaml')
  .addOption(new Option('--log-level <level>', 'log level on stderr').choices(LOG_LEVELS).env('X_ENRICH_LOG_LEVEL'))
  .showHelpAfterError('(run with --help for usage)')
  .configureHelp({ showGlobalOptions: true })
  .addHelpText('after', examples('x-enrich demo', 'x-enrich --config x-enrich.yaml enrich 8.8.8.8 evil.example', 'x-enrich serve --port 8080', 'x-enrich enrich --help'));

program
  .command('enrich')
  .description('enrich observables given as arguments, in a file, or on standard input')
  .argument('[observables...]', 'observables: raw (auto-detected, defanged ok) or type:value')
  .option('-i, --input <file>', 'read observables from a file, - for standard input')
  .addOption(new Option('--input-format <format>', 'input file format').choices(INPUT_FORMATS).default('auto', 'by extension: .jsonl/.ndjson, .csv, else one a line'))
  .option('--field <name>', 'JSONL property or CSV column holding the observable', 'observable')
  .addOption(new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default(undefined, 'table on a terminal, else jsonl'))
  .option('-o, --output <file>', 'write the output to this file (via a temporary file renamed at the end: never half written)')
  .option('--wide', 'table: show every column in full instead of fitting the terminal')
  .option('--lookup-private-addresses', 'also send private and special IP addresses upstream (config: lookupPrivateAddresses)')
  .option('-p, --providers <names>', 'only these provider instances (comma-separated)')
  .option('--concurrency <n>', 'observables looked up at once (default: config, 16)', positiveInt)
  .option('--refresh', 'ignore cached results and ask upstream again (results are cached again)')
  .option('--no-cache', 'neither read nor write the cache')
  .option('--cache-dir <dir>', 'file cache directory (default: the user cache dir, e.g. ~/.cache/x-enrich)')
  .addOption(new Option('--fail-on <verdict>', 'exit 3 when any observable is at least this bad').choices(['suspicious', 'malicious']))
  .option('--no-progress', 'no progress bar (it is shown only when stderr is a terminal)')
  .option('-q, --quiet', 'no summary line on stderr')
  .addHelpText(
    'after',
    examples(
      "x-enrich enrich 8.8.8.8 'hxxp://evil[.]example/x' 44d88612fea8a8f36de82e1278abb02f",
      'x-enrich enrich -i iocs.txt -f csv -o enriched.csv',
      'x-enrich enrich -i alerts.jsonl --field src_ip -f jsonl > out.jsonl',
      'cat iocs.txt | x-enrich enrich --fail-on malicious -q -f json',
      'x-enrich enrich -p vt3 --refresh 1.1.1.1',
    ),
  )
  .action((observables: string[], _options: unknown, command: Command) =>
    runCommand(async () => (await import('./commands/enrich.js')).enrichCommand(observables, command.optsWithGlobals())),
  );

program
  .command('serve')
  .description('run the HTTP service (POST /v1/enrich, GET /v1/providers, /healthz, /metrics, the API page at /docs)')
  .option('--host <host>', 'address to listen on (default: config server.host, 127.0.0.1)')
  .option('--port <port>', 'port, 0 for any free one (default: config server.port, 8080)', port)
  .option('--cache-dir <dir>', 'use a file cache in this directory (default: config, else memory)')
  .addHelpText(
    'after',
    examples(
      'x-enrich --config x-enrich.yaml serve --port 8080',
      '# then: open http://127.0.0.1:8080/docs, or',
      `curl -s -H 'content-type: application/json' -d '{"observables":["8.8.8.8"]}' http://127.0.0.1:8080/v1/enrich`,
    ),
  )
  .action((_options: unknown, command: Command) => runCommand(async () => (await import('./commands/serve.js')).serveCommand(command.optsWithGlobals())));

program
  .command('mcp')
  .description('serve the Model Context Protocol on stdin/stdout for AI agents (tools: enrich, list_providers, explain; see docs/mcp.md)')
  .option('--cache-dir <dir>', 'file cache directory (default: as for enrich)')
  .action((_options: unknown, command: Command) => runCommand(async () => (await import('./commands/mcp.js')).mcpCommand(command.optsWithGlobals())));

const providers = program
  .command('providers')
  .description('list the configured provider instances: plugin, version, types, lifecycle, rate limits')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
  .addHelpText('after', examples('x-enrich --config x-enrich.yaml providers', 'x-enrich providers -f json'))
  .action((_options: unknown, command: Command) => runCommand(async () => (await import('./commands/providers.js')).providersCommand(command.optsWithGlobals())));
providers
  .command('test')
  .description('dry run: one lookup with one instance, showing each step (request without secrets, status, body, fields, rules) and the record; nothing is cached')
  .argument('<instance>', 'provider instance name from the config')
  .argument('<observable>', 'raw, defanged or type:value')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
  .action((instance: string, observable: string, _options: unknown, command: Command) =>
    runCommand(async () => (await import('./commands/providers.js')).providersTestCommand(instance, observable, { ...command.optsWithGlobals(), ...command.opts() })),
  );

const config = program
  .command('config')
  .description('check, print or describe the configuration')
  .addHelpText('after', examples('x-enrich --config x-enrich.yaml config validate', 'x-enrich config show -f json', 'x-enrich config schema > x-enrich.schema.json'));
config
  .command('validate')
  .description('validate the config and every provider instance (imports the plugins, checks their options)')
  .addHelpText('after', examples('x-enrich --config x-enrich.yaml config validate'))
  .action((_options: unknown, command: Command) => runCommand(async () => (await import('./commands/config.js')).configValidateCommand(command.optsWithGlobals())));
config
  .command('show')
  .description('print the config after defaults and ${VAR} substitution, secrets redacted')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
  .addHelpText('after', examples('x-enrich --config x-enrich.yaml config show', 'x-enrich config show -f json'))
  .action((_options: unknown, command: Command) => runCommand(async () => (await import('./commands/config.js')).configShowCommand(command.optsWithGlobals())));
config
  .command('schema')
  .description('print the JSON Schema of the config file (for editor completion)')
  .addHelpText('after', examples('x-enrich config schema > x-enrich.schema.json'))
  .action(() => runCommand(async () => (await import('./commands/config.js')).configSchemaCommand()));

const cache = program
  .command('cache')
  .description("prune or clear the cache `enrich` uses (the config's, else the default file cache)")
  .addHelpText('after', examples('x-enrich cache prune', 'x-enrich --config x-enrich.yaml cache clear'));
cache
  .command('prune')
  .description('remove expired entries from the file cache now (enrich also does it once a day)')
  .option('--cache-dir <dir>', 'the file cache directory (default: config, else the user cache dir)')
  .addHelpText('after', examples('x-enrich cache prune', 'x-enrich cache prune --cache-dir ./cache'))
  .action((_options: unknown, command: Command) => runCommand(async () => (await import('./commands/cache.js')).cachePruneCommand(command.optsWithGlobals())));
cache
  .command('clear')
  .description('remove every cached outcome: the file cache, or the Redis keys under the configured prefix')
  .option('--cache-dir <dir>', 'the file cache directory (default: config, else the user cache dir)')
  .addHelpText('after', examples('x-enrich cache clear', 'x-enrich --config x-enrich.yaml cache clear'))
  .action((_options: unknown, command: Command) => runCommand(async () => (await import('./commands/cache.js')).cacheClearCommand(command.optsWithGlobals())));

program
  .command('demo')
  .description('start the VirusTotal simulator on loopback and enrich a sample showing every verdict (no key, no internet)')
  .addOption(new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
  .addHelpText('after', examples('x-enrich demo', 'x-enrich demo -f jsonl | head -3'))
  .action((_options: unknown, command: Command) => runCommand(async () => (await import('./commands/demo.js')).demoCommand(command.optsWithGlobals())));

const create = program.command('create').description('write a new package from a template');
create
  .command('provider <name>')
  .description('write a provider plugin package: options schema with a secret, fake upstream, conformance test, README, example config')
  .option('--typescript', 'TypeScript (compiled on npm install) instead of JavaScript with JSDoc types')
  .option('--dir <dir>', 'where to write it (default: ./x-enrich-provider-<name>)')
  .option('--core <spec>', 'dev dependency spec for @x/core, e.g. file:../x-core-0.1.0.tgz before it is published (default: ^<this core version>)')
  .action((name: string, options: { typescript?: boolean; dir?: string; core?: string }) =>
    runCommand(async () => (await import('./commands/create.js')).createProviderCommand(name, options)),
  );

const docs = program.command('docs').description('print documentation generated from a plugin');
docs
  .command('provider <path>')
  .description("print a provider's options table (Markdown) from its options schema; <path> is a plugin directory, file or installed package")
  .action((path: string) => runCommand(async () => (await import('./commands/docs.js')).docsProviderCommand(path)));

/**
 * Parses the command line and runs its command. The entry (dist/cli.js, src/cli-loader.ts) awaits
 * it: this module is part of a classic script there, which has no top-level await.
 */
export function main(argv: readonly string[]): Promise<Command> {
  return program.parseAsync(argv);
}
