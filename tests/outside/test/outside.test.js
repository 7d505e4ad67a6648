// The packages as a user outside this repository gets them: `pnpm pack` every public package,
// lint the tarballs (publint, arethetypeswrong), `npm install` them into a new project in a
// temporary directory (npm fetches the third-party dependencies from the registry), and there
// run the `x-enrich` bin, a host script with its own pino and tsyringe container, and two
// scaffolded providers (JavaScript and TypeScript) that install their own copy of @x/core
// and are loaded by path. One install is shared by all cases, so the file takes a few minutes.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_PACKAGES, REPO, run, userEnv } from './helpers.js';

const KEY = 'outside-test-key-0123456789abcdef';
/** The scaffolded providers: id and the flags of `x-enrich create provider`. */
const SCAFFOLDS = [
  ['acme-js', []],
  ['acme-ts', ['--typescript']],
];

let root = '';
/** `pnpm publish -r --dry-run`, started with the install so the two overlap. */
let publishDryRun;
let tarballs = '';
let host = '';
/** Tarball file name by package name. */
const tarballOf = new Map();

/** Each scaffold's `create` + `npm install`, started once the host is installed; both run beside the other cases. */
const scaffolds = new Map();
const NPM_INSTALL = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

const bin = () => join(host, 'node_modules', '.bin', 'x-enrich');
const xEnrich = (args, options = {}) => run(bin(), args, { cwd: host, ...options });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'x-enrich-outside-'));
  tarballs = join(root, 'tarballs');
  host = join(root, 'host');
  await mkdir(tarballs);
  await mkdir(host);
  // pnpm pack replaces workspace: ranges with the versions, as `pnpm publish` does.
  for (const dir of PUBLIC_PACKAGES) {
    const { name } = JSON.parse(await readFile(join(REPO, dir, 'package.json'), 'utf8'));
    const before = new Set(await readdir(tarballs));
    await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(REPO, dir), env: process.env });
    const file = (await readdir(tarballs)).find((entry) => !before.has(entry));
    tarballOf.set(name, file);
  }
  // Overlaps the install; started after the packing so the two never pack the same directory at once.
  publishDryRun = run('pnpm', ['run', 'release:dry-run'], { cwd: REPO, env: process.env });
  publishDryRun.catch(() => undefined);
  const fileDeps = Object.fromEntries([...tarballOf].map(([name, file]) => [name, `file:../tarballs/${file}`]));
  await writeFile(
    join(host, 'package.json'),
    JSON.stringify({
      name: 'outside-host',
      private: true,
      type: 'module',
      // The host's own logger and container library, tsyringe at an older 4.x than core's.
      dependencies: { ...fileDeps, pino: '^9.14.0', 'reflect-metadata': '^0.2.2', tsyringe: '4.8.0' },
    }),
  );
  await run('npm', NPM_INSTALL, { cwd: host });
  for (const [id, flags] of SCAFFOLDS) {
    const installed = (async () => {
      await run(bin(), ['create', 'provider', id, ...flags, '--core', `file:${join(tarballs, tarballOf.get('@x/core'))}`], { cwd: root });
      await run('npm', NPM_INSTALL, { cwd: join(root, `x-enrich-provider-${id}`) });
    })();
    installed.catch(() => undefined);
    scaffolds.set(id, installed);
  }
}, 600_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the packed tarballs', () => {
  it('pass publint', async () => {
    const problems = [];
    for (const [name, file] of tarballOf) {
      const tarball = (await readFile(join(tarballs, file))).buffer;
      const { messages, pkg } = await publint({ pack: { tarball }, level: 'suggestion', strict: true });
      for (const message of messages) problems.push(`${name}: [${message.type}] ${formatMessage(message, pkg)}`);
    }
    expect(problems).toEqual([]);
  });

  it('pass arethetypeswrong (ESM-only: node16 from ESM and bundlers)', async () => {
    const problems = [];
    for (const [name, file] of tarballOf) {
      const result = await checkPackage(createPackageFromTarballData(new Uint8Array(await readFile(join(tarballs, file)))));
      // The esm-only profile of the CLI: CommonJS and node10 resolution are out of scope for ESM-only packages.
      for (const problem of result.problems ?? []) {
        if (problem.resolutionKind === 'node10' || problem.resolutionKind === 'node16-cjs') continue;
        problems.push(`${name}: ${problem.kind} ${problem.entrypoint ?? ''} ${problem.resolutionKind ?? ''}`.trim());
      }
    }
    expect(problems).toEqual([]);
  });

  it('declare @x/core and zod as peer dependencies of every plugin, so a process has one core', async () => {
    for (const dir of ['provider-virustotal-v3', 'provider-virustotal-v2', 'provider-http', 'store-redis']) {
      const pkg = JSON.parse(await readFile(join(host, 'node_modules', '@x', dir, 'package.json'), 'utf8'));
      expect(Object.keys(pkg.peerDependencies ?? {}), dir).toEqual(expect.arrayContaining(['@x/core', 'zod']));
      expect(pkg.dependencies?.['@x/core'], dir).toBeUndefined();
    }
    // npm installed exactly one copy of core for the app and every plugin.
    expect(existsSync(join(host, 'node_modules', '@x', 'enricher', 'node_modules', '@x', 'core'))).toBe(false);
    expect(existsSync(join(host, 'node_modules', '@x', 'provider-virustotal-v3', 'node_modules', '@x', 'core'))).toBe(false);
  });
});

describe('the release', () => {
  it('publishes exactly the public packages (pnpm publish -r --dry-run, as changeset publish runs it)', async () => {
    const { stdout, stderr } = await publishDryRun;
    const published = [...(stdout + stderr).matchAll(/^\+ (@x\/[a-z0-9-]+)@(\S+)$/gm)].map((match) => match[1]).sort();
    expect(published).toEqual([...tarballOf.keys()].sort());
  });
});

describe('the x-enrich bin from the install', () => {
  it('prints its version and runs the demo against the bundled simulator', async () => {
    expect((await xEnrich(['--version'])).stdout.trim()).toBe('0.1.0');
    const demo = await xEnrich(['demo', '--format', 'jsonl']);
    const records = demo.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(records.length).toBeGreaterThan(3);
    expect(new Set(records.map((record) => record.verdict))).toEqual(new Set(['malicious', 'suspicious', 'benign', 'unknown']));
  });
});

describe('a host script with its own pino and container', () => {
  it('enriches through a tsyringe 4.8.0 container, core createContainer() and no container, with one synchronous stats()', async () => {
    await writeFile(
      join(host, 'host.mjs'),
      `import 'reflect-metadata';
import { pino } from 'pino';
import { container as hostContainer } from 'tsyringe';
import { createContainer, createEnricher, loadProviders, parseConfig } from '@x/core';
import { outcomeObservables, startSimulator } from '@x/virustotal-simulator';

const lines = [];
const logger = pino({ level: 'debug' }, { write: (line) => lines.push(line) });
const sim = await startSimulator({ port: 0, apiKeys: [${JSON.stringify(KEY)}] });
const config = parseConfig({ providers: { vt3: { use: '@x/provider-virustotal-v3', options: { apiKey: ${JSON.stringify(KEY)}, baseUrl: sim.v3Url }, rateLimit: [{ requests: 100, per: '1m' }] } } }, { env: {} });
const providers = await loadProviders(config, { importFrom: process.cwd(), logger });
const out = {};
for (const [name, container] of [['tsyringe 4.8.0', hostContainer.createChildContainer()], ['createContainer()', createContainer()], ['none', undefined]]) {
  const enricher = createEnricher({ providers, container, logger, cacheStore: false });
  const { records } = await enricher.enrich([outcomeObservables('domain').malicious5, '198.18.0.94']);
  const stats = enricher.stats();
  out[name] = { statuses: records.map((record) => record.status), verdicts: records.map((record) => record.verdict), circuit: stats.vt3.circuitState, lookups: stats.vt3.lookups };
  await enricher.close();
}
await sim.close();
console.log(JSON.stringify({ out, logLines: lines.length, leaked: lines.some((line) => line.includes(${JSON.stringify(KEY)})) }));
`,
    );
    const { stdout } = await run('node', ['host.mjs'], { cwd: host });
    const result = JSON.parse(stdout);
    for (const name of ['tsyringe 4.8.0', 'createContainer()', 'none']) {
      expect(result.out[name], name).toEqual({ statuses: ['ok', 'ok'], verdicts: ['malicious', expect.any(String)], circuit: 'closed', lookups: 2 });
    }
    expect(result.leaked).toBe(false);
  });
});

describe.each(SCAFFOLDS)('the scaffolded provider %s', (id) => {
  const dir = () => join(root, `x-enrich-provider-${id}`);

  it('is written by x-enrich create provider, installs its own @x/core and passes its own tests', async () => {
    await scaffolds.get(id);
    // Its own copy of core (a dev dependency for its tests): the layout that used to break loading.
    expect(existsSync(join(dir(), 'node_modules', '@x', 'core', 'package.json'))).toBe(true);
    const test = await run('npm', ['test'], { cwd: dir() });
    expect(test.stdout).toMatch(/Tests\s+\d+ passed/);
    expect(test.stdout).not.toMatch(/failed/);
  });

  it('loads by path into the installed x-enrich, and config validate agrees with enrich', async () => {
    const { startFakeUpstream } = await import(pathToFileURL(join(dir(), 'test', 'fake-upstream.js')).href);
    const upstream = await startFakeUpstream({ apiKey: KEY, scores: { 'evil.example': 95, 'fine.example': 3 } });
    try {
      const config = join(host, `${id}.yaml`);
      await writeFile(config, `providers:\n  ${id}:\n    use: ../x-enrich-provider-${id}\n    options: { apiKey: "\${ACME_KEY}", baseUrl: "${upstream.options.baseUrl}" }\n    rateLimit: false\ncache: false\n`);
      const env = userEnv({ ACME_KEY: KEY });
      const validate = await xEnrich(['--config', config, 'config', 'validate'], { env });
      expect(validate.stdout).toContain(`valid; 1 provider instance: ${id} (x-enrich-provider-${id} 0.1.0)`);
      const enrich = await xEnrich(['--config', config, 'enrich', '--format', 'jsonl', 'evil.example', 'fine.example', 'unknown.example'], { env });
      const records = enrich.stdout.trim().split('\n').map((line) => JSON.parse(line));
      expect(records.map((record) => [record.observable.value, record.status, record.verdict])).toEqual([
        ['evil.example', 'ok', 'malicious'],
        ['fine.example', 'ok', 'benign'],
        ['unknown.example', 'not_found', 'unknown'],
      ]);
      expect(enrich.stdout + enrich.stderr + validate.stderr).not.toContain(KEY);
    } finally {
      await upstream.close();
    }
  });

  it("has a README whose options table is what x-enrich docs provider prints from the schema", async () => {
    const docs = await xEnrich(['docs', 'provider', `../x-enrich-provider-${id}`]);
    expect(docs.stdout).toMatch(/^## Options\n\n\| Option \| Type \| Default \| Description \|/);
    expect(docs.stdout).toContain('| `apiKey` | string | **required**, secret |');
    expect(await readFile(join(dir(), 'README.md'), 'utf8')).toContain(docs.stdout);
  });
});
