/**
 * Module hooks of the bundled CLI (registered by `shareCoreWithPlugins`, run in Node's hooks
 * thread): `@x/core` resolves to the bundle's core for every importer, so a plugin loaded from
 * outside the bundle shares the host's core, as npm's peer dependency would give it unbundled.
 * Everything else resolves as usual. Imports nothing: this file is loaded on its own.
 */
interface ResolveContext {
  conditions: string[];
  parentURL?: string;
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}

let coreUrl: string | undefined;

export function initialize(data: { coreUrl: string }): void {
  coreUrl = data.coreUrl;
}

export async function resolve(specifier: string, context: ResolveContext, nextResolve: (specifier: string, context: ResolveContext) => Promise<ResolveResult>): Promise<ResolveResult> {
  if (specifier === '@x/core' && coreUrl !== undefined) return { url: coreUrl, format: 'module', shortCircuit: true };
  return nextResolve(specifier, context);
}
