/* global module */
/**
 * Import direction inside @x/core, checked by `pnpm lint` (dependency-cruiser reads the real
 * imports, `.js` specifiers mapped to the `.ts` sources through tsconfig).
 *
 * The layers, bottom up:
 *   contract/   the shared vocabulary: types and small values every folder speaks (observables,
 *               results, the plugin contract, store interfaces, Clock and tokens, errors, Logger).
 *               It imports nothing else in core, so it can never pull a feature in.
 *   features    observable/, config/, di/, cache/, rate-limit/, resilience/, http/, plugin/,
 *               result/, stores/, stream/, logging/, errors/: each imports contract/ and the
 *               features it builds on, never engine/ or testing/.
 *   engine/     composes the features into the pipeline.
 *   testing/    and index.ts: the public entry points.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'contract-imports-nothing',
      comment: 'contract/ is the vocabulary every folder imports; it imports nothing else in core (move the type into contract/, or keep the code out of it).',
      severity: 'error',
      from: { path: '^src/contract/' },
      to: { path: '^src/', pathNot: '^src/contract/' },
    },
    {
      name: 'features-below-engine',
      comment: 'Feature folders sit below the engine: they must not import engine/ or testing/ (pass what they need in, or move the shared type into contract/).',
      severity: 'error',
      from: { path: '^src/(?!engine/|testing/|index\\.ts)', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/(engine|testing)/' },
    },
    {
      name: 'config-below-plugins',
      comment: 'config/ describes and reads configuration; it sits below plugin/, cache/ and the stores. Anything it needs of a loaded provider is a shape in contract/ (or a structural type).',
      severity: 'error',
      from: { path: '^src/config/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(config|contract|observable)/' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle between modules means two of them are one idea, or a type belongs in contract/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
  },
};
