import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { withGeneratedSections } from '../src/docs.js';
import { zHttpProviderOptions } from '../src/options.js';

const page = readFileSync(new URL('../../../docs/providers/http.md', import.meta.url), 'utf8');

describe('docs/providers/http.md', () => {
  it('has the options reference and the recipes as the code generates them (run gen:docs)', () => {
    expect(page).toBe(withGeneratedSections(page));
  });

  it('every YAML example validates against the options schema', () => {
    const blocks = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!).filter((block) => block.includes('providers:'));
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) {
      const config = parseYaml(block) as { providers: Record<string, { options: Record<string, unknown> }> };
      for (const [name, instance] of Object.entries(config.providers)) {
        const options = JSON.parse(JSON.stringify(instance.options).replace(/\$\{[A-Z_]+\}/g, 'secret-value')) as Record<string, unknown>;
        const parsed = zHttpProviderOptions.safeParse(options);
        expect(parsed.error?.issues ?? [], name).toEqual([]);
      }
    }
  });
});
