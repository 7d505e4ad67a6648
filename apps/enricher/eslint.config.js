// The repository's rules, plus Node's globals for the plain-JavaScript files here (bench
// scripts, the test provider); in TypeScript the compiler checks globals instead.
import root from '../../eslint.config.js';

const nodeGlobals = Object.fromEntries(['process', 'console', 'fetch', 'setTimeout', 'clearTimeout', 'URL', 'AbortController'].map((name) => [name, 'readonly']));

export default [
  ...root,
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: nodeGlobals } },
  // The bin is CommonJS (bin/package.json): a start then never needs Node's ES module loader.
  {
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
