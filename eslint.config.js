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
);
