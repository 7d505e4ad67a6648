import { readFileSync } from 'node:fs';

/** Reads a copied capture from test/fixtures (see test/fixtures/SOURCES.md). */
export function loadFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}
