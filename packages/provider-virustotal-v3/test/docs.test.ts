import { existsSync, readFileSync } from 'node:fs';
import { formatDuration } from '@x/core';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_MALICE_RULES, ruleId } from '../src/malice-rules.js';
import { zVirusTotalV3Options } from '../src/options.js';
import { manifest } from '../src/plugin.js';

const docsPath = new URL('../../../docs/providers/virustotal-v3.md', import.meta.url);
const page = existsSync(docsPath) ? readFileSync(docsPath, 'utf8') : '';
const section = (from: string, to: string) => page.slice(page.indexOf(from), page.indexOf(to));

describe.runIf(page)('docs page', () => {
  it('lists every option with its schema default', () => {
    const options = section('## Options', '## Lookups');
    const defaults = zVirusTotalV3Options.parse({ apiKey: 'k' });
    for (const name of Object.keys(zVirusTotalV3Options.shape)) {
      const row = options.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, `options table row for ${name}`).toBeDefined();
      if (name === 'baseUrl') expect(row).toContain(`\`${defaults.baseUrl}\``);
      if (name === 'requestTimeout') expect(row).toContain(`\`${formatDuration(defaults.requestTimeout)}\``);
    }
  });

  it('shows the default rules with the ids the reasons carry', () => {
    const rules = section('## Verdict', '### Writing rules');
    for (const rule of DEFAULT_MALICE_RULES) expect(rules).toContain(`\`${ruleId(rule).replace(/\|/g, '\\|')}\``);
  });

  it('gives the manifest TTLs and rate limits', () => {
    expect(manifest.defaultRateLimits).toEqual([
      { requests: 4, perMs: 60_000 },
      { requests: 500, perMs: 86_400_000 },
    ]);
    expect(section('## Rate limits', '## Errors')).toContain('4 requests per minute and 500 per day');
    expect(section('## Cache TTLs', '## Rate limits')).toMatch(/`url` \| 30 minutes/);
  });

  it('has a rule example that validates', () => {
    const example = /## Verdict[\s\S]*?```yaml\n([\s\S]*?)```/.exec(page)?.[1];
    const config = parseYaml(example!) as { providers: { vt: { options: Record<string, unknown> } } };
    const parsed = zVirusTotalV3Options.safeParse({ ...config.providers.vt.options, apiKey: 'k' });
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.maliceRules).toHaveLength(5);
  });
});
