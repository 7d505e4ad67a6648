/**
 * The generated parts of docs/providers/http.md: the options reference (from the zod schema)
 * and each recipe (from its definition), so the page can never drift from the code. Written by
 * `pnpm --filter @x/provider-http gen:docs`; test/docs.test.ts fails on drift.
 */
import { renderProviderOptionsTable } from '@x/core';
import { stringify } from 'yaml';
import { zHttpDefinition } from './options.js';
import { RECIPES } from './recipes/index.js';

export const REFERENCE_START = '<!-- generated: options reference -->';
export const REFERENCE_END = '<!-- end: options reference -->';
export const RECIPES_START = '<!-- generated: recipes -->';
export const RECIPES_END = '<!-- end: recipes -->';

export function renderReference(): string {
  return renderProviderOptionsTable(zHttpDefinition).trimEnd();
}

export function renderRecipes(): string {
  return Object.entries(RECIPES)
    .map(([name, recipe]) => {
      const types = Object.keys(recipe.requests).join(', ');
      const key = 'auth' in recipe ? `\`apiKey\` (the \`${recipe.auth.name}\` ${recipe.auth.type})` : 'no key';
      return [
        `### \`${name}\`: ${recipe.name}`,
        '',
        `Types: ${types}. Needs ${key}. Documentation: ${recipe.docsUrl}`,
        '',
        '```yaml',
        `# recipe: ${name}`,
        stringify(recipe, { lineWidth: 0 }).trimEnd(),
        '```',
      ].join('\n');
    })
    .join('\n\n');
}

/** `page` with its generated sections replaced. */
export function withGeneratedSections(page: string): string {
  const replace = (text: string, start: string, end: string, body: string) => {
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs page lacks the markers ${start} ... ${end}`);
    return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
  };
  return replace(replace(page, REFERENCE_START, REFERENCE_END, renderReference()), RECIPES_START, RECIPES_END, renderRecipes());
}
