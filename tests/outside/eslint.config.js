// The repository's rules, plus Node's globals for these plain-JavaScript tests.
import root from '../../eslint.config.js';

const nodeGlobals = Object.fromEntries(['process', 'console', 'setTimeout', 'clearTimeout', 'URL'].map((name) => [name, 'readonly']));

export default [...root, { files: ['**/*.js'], languageOptions: { globals: nodeGlobals } }];
