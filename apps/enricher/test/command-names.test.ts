import { describe, expect, it } from 'vitest';
import { program } from '../src/cli.js';
import { COMMAND_NAMES } from '../src/command-names.js';

describe('the command names the entry knows before the CLI is compiled', () => {
  it("are the program's top-level commands (one code cache each)", () => {
    expect([...COMMAND_NAMES].sort()).toEqual(program.commands.map((command) => command.name()).sort());
  });
});
