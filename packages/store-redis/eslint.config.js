// The repository's rules, plus the Node globals of the plain-JavaScript bench (the root config
// lints TypeScript, where the compiler checks globals instead).
import root from '../../eslint.config.js';

export default [
  ...root,
  {
    files: ['bench/**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', performance: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
];
