// The repository's rules, plus Node's globals for the plain-JavaScript bench script; in
// TypeScript the compiler checks globals instead.
import root from '../../eslint.config.js';

const nodeGlobals = Object.fromEntries(['process', 'console'].map((name) => [name, 'readonly']));

export default [...root, { files: ['**/*.js'], languageOptions: { globals: nodeGlobals } }];
