import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFORMANCE_FAULTS } from '@x/core/testing';
import { describe, expect, it } from 'vitest';
import { APP_DIR } from './helpers/cli.js';

const guide = () => readFile(join(APP_DIR, '..', '..', 'docs', 'writing-a-provider.md'), 'utf8');

// The scaffold itself is tested outside the repository (tests/outside): generated, installed,
// its own tests run, loaded by path. Here: the guide shows what the scaffold writes.
describe('the provider guide and the scaffold agree', () => {
  it('shows the fake upstream the scaffold writes, verbatim', async () => {
    const template = await readFile(join(APP_DIR, 'templates', 'provider', 'test', 'fake-upstream.js.tmpl'), 'utf8');
    const text = await guide();
    const start = text.indexOf('```js\n', text.indexOf('<!-- fake-upstream:')) + '```js\n'.length;
    expect(text.slice(start, text.indexOf('```', start))).toBe(template);
    expect(template.split('\n').length).toBeLessThanOrEqual(40);
  });

  it("lists every fault of the kit, and each is one the fake upstream produces", async () => {
    const text = await guide();
    const template = await readFile(join(APP_DIR, 'templates', 'provider', 'test', 'fake-upstream.js.tmpl'), 'utf8');
    for (const fault of Object.keys(CONFORMANCE_FAULTS)) {
      expect(text, fault).toContain(`| \`${fault}\` |`);
      expect(template, fault).toContain(`fault === '${fault}'`);
    }
  });
});
