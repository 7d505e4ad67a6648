import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The app's package directory, one level above this module: src/ when tests run the sources,
 * dist/ when the bundled CLI runs (every file of the bundle, chunks included, sits directly in
 * dist/). Modules that need a file of the package (package.json, templates/, the shipped
 * plugins) ask here, so moving code between chunks cannot break their paths.
 */
export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

let version: string | undefined;

/** The app's version, from its package.json (read once). */
export function appVersion(): string {
  version ??= (JSON.parse(readFileSync(`${APP_DIR}package.json`, 'utf8')) as { version: string }).version;
  return version;
}
