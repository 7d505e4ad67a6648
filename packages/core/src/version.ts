import { createRequire } from 'node:module';

// Read at run time from core's own package.json (one level above both src/ and dist/), so the
// version plugins are checked against is always the installed one, never a stale constant.
const require = createRequire(import.meta.url);

/** The installed @x/core version; plugins declare the range they support in `manifest.coreRange`. */
export const CORE_VERSION: string = (require('../package.json') as { version: string }).version;
