// The repository's rules, plus the Node globals this plain-JavaScript package uses (the root
// config lints TypeScript, where the compiler checks globals instead).
import root from '../../eslint.config.js';

export default [
  ...root,
  { languageOptions: { globals: { URL: 'readonly', AbortController: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } } },
];
