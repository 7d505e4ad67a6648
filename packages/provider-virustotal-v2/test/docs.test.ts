import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDuration } from '@x/core';
import { zVirusTotalV2Options } from '../src/options.js';

const docsPath = new URL('../../../docs/providers/virustotal-v2.md', import.meta.url);

describe('docs page', () => {
  it.runIf(existsSync(docsPath))('opens with the End-of-Life notice and lists every option with its schema default', () => {
    const page = readFileSync(docsPath, 'utf8');
    expect(page.split('\n').slice(0, 4).join('\n')).toMatch(/End of Life/);
    const options = page.slice(page.indexOf('## Options'), page.indexOf('## Lookups'));
    const defaults = zVirusTotalV2Options.parse({ apiKey: 'k' });
    for (const name of Object.keys(zVirusTotalV2Options.shape)) {
      const row = options.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, `options table row for ${name}`).toBeDefined();
      if (name === 'apiKey') continue;
      const value = defaults[name as keyof typeof defaults];
      const shown = name === 'requestTimeout' ? formatDuration(value as number) : String(value);
      expect(row, name).toContain(`\`${shown}\``);
    }
  });
});
