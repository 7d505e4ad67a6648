import type { Observable } from '../contract/observable-type.js';

// Schemes as analysts write them defanged: hxxp, hXXp, hxxps, h**p, fxp (ftp). Only replaced
// when a (possibly defanged) colon follows, so a word like "hxxpfoo" is left alone.
const DEFANGED_SCHEME = /\b(?:h(?:xx|tt|\*\*)p|fxp)(s?)(?=\s*(?:[[({]\s*:|:))/gi;
// `[://]`, `[:]//`, `(:)`, `{:}`: the separator after the scheme or before a port.
const DEFANGED_SCHEME_SEPARATOR = /[[({]\s*:\/\/\s*[\])}]/g;
const DEFANGED_COLON = /[[({]\s*:\s*[\])}]/g;
// `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `{dot}`, and `\.` (some tools escape dots).
const DEFANGED_DOT = /[[({]\s*(?:\.|dot)\s*[\])}]|\\\./gi;
// `[at]`, `(at)`, `{at}`, `[@]`, `(@)`: userinfo in URLs.
const DEFANGED_AT = /[[({]\s*(?:@|at)\s*[\])}]/gi;
// `[/]`: occasionally used to break `//`.
const DEFANGED_SLASH = /\[\/\]/g;

/**
 * Undoes the usual defanging of indicators: `hxxp`/`hxxps`/`fxp`, `[.]`, `(.)`, `{.}`,
 * `[dot]`, `[:]`, `[://]`, `[at]`/`[@]`, `[/]`, `\.`. Works on one indicator or free text;
 * does not validate (use `parseObservable` for that). A value that itself contains one of
 * these tokens (a URL path with a literal `[.]`) cannot be told apart from a defanged one.
 */
export function refang(input: string): string {
  // Every token above holds a bracket, a backslash or a colon: a value without any (a plain IP,
  // domain or hash, nearly every input) has nothing to refang, and skips six regex passes.
  if (!mayBeDefanged(input)) return input;
  // Repeat until stable: removing one token can complete another (`h\[.]h` -> `h\.h` -> `h.h`),
  // and parsing must give the same answer for a value and its refanged form.
  let current = input;
  for (let pass = 0; pass < 8; pass++) {
    const next = refangOnce(current);
    if (next === current) return next;
    current = next;
  }
  return current;
}

/** False when `input` has none of `[ ( { \\ :`, which every defanged token contains. */
function mayBeDefanged(input: string): boolean {
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    // [ ( { \ :
    if (c === 91 || c === 40 || c === 123 || c === 92 || c === 58) return true;
  }
  return false;
}

function refangOnce(input: string): string {
  return input
    .replace(DEFANGED_SCHEME, (match, s: string) => (match[0]?.toLowerCase() === 'f' ? 'ftp' : 'http') + s.toLowerCase())
    .replace(DEFANGED_SCHEME_SEPARATOR, '://')
    .replace(DEFANGED_COLON, ':')
    .replace(DEFANGED_DOT, '.')
    .replace(DEFANGED_AT, '@')
    .replace(DEFANGED_SLASH, '/');
}

const FANGED_SCHEMES: Record<string, string> = { http: 'hxxp', https: 'hxxps', ftp: 'fxp', ftps: 'fxps' };

/**
 * Makes an observable safe to paste into tickets and chats (not clickable, not resolvable):
 * dots of IPv4 addresses and domains become `[.]`; URLs get `hxxp(s)`/`fxp`, `[://]` and
 * `[.]` in the host (path and query are left as they are). IPv6 addresses and hashes are
 * returned unchanged: neither is clickable. `refang(defang(o.value))` gives back `o.value`.
 */
export function defang(observable: Observable): string {
  const { type, value } = observable;
  switch (type) {
    case 'ipv4':
    case 'domain':
      return value.replaceAll('.', '[.]');
    case 'url': {
      const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#\\]*)(.*)$/is.exec(value);
      if (!match) return value.replaceAll('.', '[.]');
      const [, scheme = '', authority = '', rest = ''] = match;
      const fangedScheme = FANGED_SCHEMES[scheme.toLowerCase()] ?? scheme;
      return `${fangedScheme}[://]${authority.replaceAll('.', '[.]')}${rest}`;
    }
    default:
      return value;
  }
}
