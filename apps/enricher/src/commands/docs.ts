import { pathToFileURL } from 'node:url';
import { renderProviderOptionsTable, resolvePluginEntry, zProviderManifest, XEnrichError } from '@x/core';
import { shareCoreWithPlugins } from '../bundled-plugins.js';
import { ExitCode } from '../exit-codes.js';
import { writeOut } from '../run-command.js';

/**
 * `x-enrich docs provider <path>`: prints the plugin's options table (Markdown) from its options
 * schema, the one source a README's table should come from (like fastify-cli's `readme`).
 * `<path>` is a plugin directory or file, or an installed package name.
 */
export async function docsProviderCommand(path: string): Promise<ExitCode> {
  const entry = resolvePluginEntry(path, process.cwd());
  if (entry === undefined) throw new XEnrichError('X_PLUGIN_NOT_FOUND', `No plugin at ${JSON.stringify(path)} (a directory with a package.json, a file, or an installed package name).`);
  shareCoreWithPlugins();
  const module = (await import(pathToFileURL(entry).href)) as { default?: { manifest?: unknown }; plugin?: { manifest?: unknown } };
  const parsed = zProviderManifest.safeParse((module.default ?? module.plugin)?.manifest);
  if (!parsed.success) throw new XEnrichError('X_PLUGIN_MANIFEST_INVALID', `${entry} does not export a plugin with a valid manifest (export default definePlugin({ manifest, register })).`);
  await writeOut(`## Options\n\n${renderProviderOptionsTable(parsed.data.optionsSchema)}`);
  return ExitCode.Ok;
}
