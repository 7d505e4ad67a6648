// The repository's rules, plus Node's globals for the plain-JavaScript bench and docs scripts;
// in TypeScript the compiler checks globals instead.
import root from '../../eslint.config.js';

const nodeGlobals = Object.fromEntries(['process', 'console', 'URL'].map((name) => [name, 'readonly']));

export default [...root, { files: ['**/*.js'], languageOptions: { globals: nodeGlobals } }];
