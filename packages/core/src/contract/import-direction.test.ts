import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

// The rules `pnpm lint` enforces (dependency-cruiser), run here against the real sources and
// against a small tree that breaks them, so a rule that stopped matching would fail this test.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const config = createRequire(import.meta.url)(join(packageRoot, '.dependency-cruiser.cjs')) as IConfiguration;

async function cruiseSources(baseDir: string): Promise<ICruiseResult> {
  const result = await cruise(['src'], { ...config.options, baseDir, ruleSet: { forbidden: config.forbidden }, validate: true, tsConfig: undefined, tsPreCompilationDeps: true });
  return result.output as ICruiseResult;
}

async function violations(baseDir: string): Promise<string[]> {
  const output = await cruiseSources(baseDir);
  return output.summary.violations.map((violation) => `${violation.rule.name}: ${violation.from} -> ${violation.to}`).sort();
}

const temp: string[] = [];
afterAll(() => Promise.all(temp.map((dir) => rm(dir, { recursive: true, force: true }))));

describe('import direction in @x/core', () => {
  it('holds for the sources as they are', async () => {
    const output = await cruiseSources(packageRoot);
    // The `.js` specifiers must resolve to the `.ts` sources, or no rule could ever match.
    const internal = output.modules.flatMap((module) => module.dependencies).filter((dependency) => dependency.resolved.startsWith('src/'));
    expect(internal.length).toBeGreaterThan(300);
    expect(output.summary.violations).toEqual([]);
    // Cruising every source with the TypeScript compiler took over 20 s on a loaded 2-CPU
    // machine; the limit catches a hang and measures nothing.
  }, 120_000);

  it('fails when contract/ imports a feature, a feature imports the engine, or two modules import each other', async () => {
    const root = await mkdtemp(join(tmpdir(), 'x-enrich-depcruise-'));
    temp.push(root);
    const files: Record<string, string> = {
      'src/contract/vocabulary.ts': "import { feature } from '../cache/feature.ts';\nexport const word = feature;\n",
      'src/cache/feature.ts': "import { engine } from '../engine/engine.ts';\nexport const feature = engine;\n",
      'src/engine/engine.ts': "import { other } from './other.ts';\nexport const engine = 1 + other;\n",
      'src/engine/other.ts': "import { engine } from './engine.ts';\nexport const other = engine;\n",
      'src/config/reader.ts': "import { feature } from '../cache/feature.ts';\nexport const reader = feature;\n",
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    expect(await violations(root)).toEqual([
      'config-below-plugins: src/config/reader.ts -> src/cache/feature.ts',
      'contract-imports-nothing: src/contract/vocabulary.ts -> src/cache/feature.ts',
      'features-below-engine: src/cache/feature.ts -> src/engine/engine.ts',
      'no-circular: src/engine/engine.ts -> src/engine/other.ts',
    ]);
  }, 120_000);
});
