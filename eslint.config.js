// Flat config shared by every package: typescript-eslint's recommended rules, with the
// few exceptions this codebase needs spelled out (and why).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `_`-prefixed names are deliberately unused (interface conformance, destructuring).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // tsyringe tokens and DI need `Function`-typed constructor signatures in a few places.
      '@typescript-eslint/no-unsafe-function-type': 'off',
    },
  },
  {
    // The code the CLI bundles (tests are not bundled).
    files: ['**/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      // esbuild tree-shakes zod only when every bundled file imports it as a namespace: one
      // `import { z } from 'zod'` keeps all of zod (289 KB instead of 152) in the CLI's eager code,
      // which every start parses (docs/performance.md, cold start). Type-only imports are erased.
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'][importKind='value'] > ImportSpecifier[imported.name='z'][importKind='value']",
          message: "Use `import * as z from 'zod'`: a named `z` keeps all of zod in the CLI bundle.",
        },
      ],
    },
  },
);
