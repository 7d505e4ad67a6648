/**
 * The CLI's top-level commands (src/cli.ts; test/command-names.test.ts keeps the two in step).
 * The entry keys the V8 code cache by the command that runs, so it knows them before the CLI
 * is compiled.
 */
export const COMMAND_NAMES: readonly string[] = ['enrich', 'serve', 'mcp', 'providers', 'config', 'cache', 'demo', 'create', 'docs'];
