import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CORE_VERSION, renderProviderOptionsTable } from '@x/core';
import type { z } from 'zod';
import { APP_DIR } from '../app-dir.js';
import { shareCoreWithPlugins } from '../bundled-plugins.js';
import { ExitCode } from '../exit-codes.js';
import { writeOut } from '../run-command.js';
import { UsageError } from '../usage-error.js';

const TEMPLATES = join(APP_DIR, 'templates', 'provider');

export interface CreateProviderOptions {
  /** Write TypeScript (src/ compiled to dist/ by `npm run build`, also run on `npm install`). Default: JavaScript with JSDoc types. */
  typescript?: boolean;
  /** Where to write the package; default `./x-enrich-provider-<name>`. */
  dir?: string;
  /** The dev dependency spec for @x/core (its own tests): a range once published, a tarball or path before (`file:../x-core-0.1.0.tgz`). */
  core?: string;
}

interface Versions {
  zod: string;
  vitest: string;
  typescript: string;
  typesNode: string;
}

/** Ranges the generated package should use: the ones this app and core are built and tested with. */
function versions(): Versions {
  const require = createRequire(import.meta.url);
  const core = require('@x/core/package.json') as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
  return { zod: core.dependencies.zod ?? '^4', vitest: core.peerDependencies.vitest ?? '^4', typescript: '~5.9.3', typesNode: '^20.19.0' };
}

/** `acme-intel` -> `AcmeIntelProvider`. */
function className(id: string): string {
  return `${id.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, char: string) => char.toUpperCase())}Provider`;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/__([A-Z_]+?)__/g, (match, key: string) => values[key] ?? match);
}

function packageJson(packageName: string, id: string, options: CreateProviderOptions, v: Versions): Record<string, unknown> {
  const coreRange = `^${CORE_VERSION}`;
  const typescript = options.typescript === true;
  return {
    name: packageName,
    version: '0.1.0',
    description: `x-enrich provider plugin: ${id}`,
    type: 'module',
    license: 'MIT',
    keywords: ['x-enrich-provider'],
    engines: { node: '>=20.19' },
    exports: typescript ? { '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './package.json': './package.json' } : { '.': './index.js', './package.json': './package.json' },
    files: typescript ? ['dist', 'README.md'] : ['index.js', 'options.js', 'README.md'],
    scripts: typescript ? { build: 'tsc -p tsconfig.json', prepare: 'tsc -p tsconfig.json', test: 'vitest run' } : { test: 'vitest run' },
    // One core per process: the host brings @x/core and zod (zod's registry marks secrets).
    peerDependencies: { '@x/core': coreRange, zod: v.zod },
    devDependencies: {
      '@x/core': options.core ?? coreRange,
      ...(typescript ? { '@types/node': v.typesNode, typescript: v.typescript } : {}),
      vitest: v.vitest,
      zod: v.zod,
    },
  };
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    declaration: true,
    skipLibCheck: true,
    rootDir: 'src',
    outDir: 'dist',
    types: ['node'],
  },
  include: ['src'],
};

/** The options table of the template's schema, rendered here so the README starts out true. */
async function optionsSection(): Promise<string> {
  shareCoreWithPlugins();
  const { zOptions } = (await import(pathToFileURL(join(TEMPLATES, 'options.js')).href)) as { zOptions: z.ZodType };
  return `## Options\n\n${renderProviderOptionsTable(zOptions)}`;
}

/**
 * `x-enrich create provider <name>`: writes a provider package that passes its own tests and
 * loads by path: package.json (peer dependencies), the plugin with an options schema and a
 * secret, a fake upstream with the kit's faults, the conformance test with cases, a README
 * whose options table comes from the schema, and an example config.
 */
export async function createProviderCommand(name: string, options: CreateProviderOptions): Promise<ExitCode> {
  const id = name.replace(/^x-enrich-provider-/, '');
  if (!/^[a-z][a-z0-9-]*$/.test(id)) throw new UsageError(`"${name}" is not a provider name: use lower-case letters, digits and dashes, starting with a letter (e.g. acme-intel)`);
  const packageName = `x-enrich-provider-${id}`;
  const dir = resolve(options.dir ?? packageName);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError(`${dir} exists and is not empty: choose another --dir or remove it`);
  const typescript = options.typescript === true;
  const values = {
    ID: id,
    ID_UPPER: id.toUpperCase().replaceAll('-', '_'),
    PACKAGE: packageName,
    DIR: basename(dir),
    CLASS: className(id),
    DISPLAY: id.split('-').map((word) => word[0]!.toUpperCase() + word.slice(1)).join(' '),
    CORE_RANGE: `^${CORE_VERSION}`,
    PLUGIN_IMPORT: typescript ? '../src/index.js' : '../index.js',
    OPTIONS: await optionsSection(),
  };
  const template = (file: string) => readFile(join(TEMPLATES, file), 'utf8').then((text) => fill(text, values));
  const options_ = await readFile(join(TEMPLATES, 'options.js'), 'utf8');
  const files: Array<[string, string]> = [
    ['package.json', `${JSON.stringify(packageJson(packageName, id, options, versions()), null, 2)}\n`],
    ['README.md', await template('README.md.tmpl')],
    ['x-enrich.example.yaml', await template('x-enrich.example.yaml.tmpl')],
    ['test/fake-upstream.js', await template('test/fake-upstream.js.tmpl')],
    [typescript ? 'test/conformance.test.ts' : 'test/conformance.test.js', await template('test/conformance.test.js.tmpl')],
    ['.gitignore', typescript ? 'node_modules/\ndist/\n' : 'node_modules/\n'],
    ...((typescript
      ? [
          ['src/index.ts', await template('plugin.ts.tmpl')],
          ['src/options.ts', options_],
          ['tsconfig.json', `${JSON.stringify(TSCONFIG, null, 2)}\n`],
        ]
      : [
          ['index.js', await template('plugin.js.tmpl')],
          ['options.js', options_],
        ]) as Array<[string, string]>),
  ];
  for (const [file, text] of files) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  const shown = relative(process.cwd(), dir) || '.';
  await writeOut(
    `Created ${packageName} in ${shown} (${typescript ? 'TypeScript' : 'JavaScript'}).\n\n` +
      `  cd ${shown}\n  npm install${options.core ? '' : `        # before @x/core is published: --core file:<path to x-core-${CORE_VERSION}.tgz>`}\n  npm test\n\n` +
      `Load it by path: x-enrich --config ${join(shown, 'x-enrich.example.yaml')} providers\n`,
  );
  return ExitCode.Ok;
}
