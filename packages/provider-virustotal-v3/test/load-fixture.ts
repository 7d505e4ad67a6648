import { readdirSync, readFileSync } from 'node:fs';

const DIR = new URL('./fixtures/', import.meta.url);

/** Reads a copied capture from test/fixtures (see test/fixtures/SOURCES.md). */
export function loadFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(name.endsWith('.json') ? name : `${name}.json`, DIR), 'utf8')) as T;
}

/** Names (without `.json`) of the copied captures that start with `prefix`. */
export function fixtureNames(prefix: string): string[] {
  return readdirSync(DIR)
    .filter((name) => name.startsWith(prefix) && name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

/**
 * Capture attributes as loose JSON: tests compute their expectations from the raw capture,
 * deliberately without the provider's own schema.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LooseAttributes = Record<string, any>;

/** The object of a capture, with or without the `data` wrapper. */
export function attributesOf(capture: Record<string, unknown>): { id: string; type: string; attributes: LooseAttributes } {
  return (capture.data ?? capture) as { id: string; type: string; attributes: LooseAttributes };
}
