/** The recipes `x-enrich` ships: `recipe: <name>` in an instance's options (docs/providers/http.md). */
import { abuseipdb } from './abuseipdb.js';
import { greynoise } from './greynoise.js';
import { otx } from './otx.js';
import { shodanInternetdb } from './shodan-internetdb.js';
import { threatfox } from './threatfox.js';
import { urlhaus } from './urlhaus.js';

export const RECIPES = {
  abuseipdb,
  greynoise,
  urlhaus,
  threatfox,
  otx,
  'shodan-internetdb': shodanInternetdb,
} as const;
export type RecipeName = keyof typeof RECIPES;
