/**
 * `JSON.parse(text)` without the object members named in `names`, wherever they are: each such
 * member is cut out of the text before parsing, so its value is stepped over, never built.
 *
 * Why: building objects is most of what `JSON.parse` costs, and an upstream answer often carries a
 * large member its provider never reads. VirusTotal's `last_analysis_results` (one object per
 * engine, 40-85 % of an object's bytes) cost more to parse than everything vt3 maps; skipping it
 * about halves the parse of a compact answer (docs/performance.md, "Misses, sixth round").
 *
 * Members that make up less than `minShare` of the text (default a quarter) are left in: then
 * the text is parsed whole, as `JSON.parse` would.
 *
 * What stays the same: every other member, in its order, and `JSON.parse`'s verdict on the text
 * around the cut members (a body that is not JSON there still fails). What does not: a cut
 * member's value is matched by its brackets and strings, not validated, so a body whose only
 * fault lies inside a cut member parses.
 *
 * A name is matched as it is written in the text (`"name"`), so it must be one a JSON writer
 * leaves as it is: no `"`, `\` or control character (`assertPlainName`).
 */
export function parseJsonWithout(text: string, names: readonly string[], options: { minShare?: number } = {}): unknown {
  const minShare = options.minShare ?? MIN_SHARE;
  let rest = text;
  for (const name of names) rest = withoutMember(rest, name, minShare);
  return JSON.parse(rest) as unknown;
}

/**
 * The share of the text a name's members must make up to be cut (`minShare`): below it the body
 * is parsed whole. The copy of what remains costs more than the objects saved when the cut is
 * small beside it: a 250 KB file object with 12 KB of engine results parsed slower cut than
 * whole (large strings are dear to allocate). VirusTotal's engine results are 40-85 % of most
 * objects.
 */
const MIN_SHARE = 0.25;

/** Refuses a member name that JSON text may spell with escapes (it would never be matched). */
export function assertPlainName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (name === '' || /["\\\u0000-\u001f]/.test(name)) throw new TypeError(`unread member names must be non-empty, without '"', '\\' or control characters: ${JSON.stringify(name)}`);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;

/** JSON's whitespace; the control characters it forbids outside strings count too (read only around and inside what is cut). */
const isSpace = (code: number): boolean => code <= 0x20;

/**
 * The text without every member named `name`. A `"name"` in the text is a key when its first
 * quote is not escaped and a colon follows: in valid JSON an unescaped quote there can only open
 * a string (a closing one would leave `name"` outside any string), and a quote inside a string is
 * always escaped. A cut member takes one comma with it (the previous, else the next), so the rest
 * stays valid JSON; members of that name inside a cut value go with it.
 */
function withoutMember(text: string, name: string, minShare: number): string {
  const key = `"${name}"`;
  let at = text.indexOf(key);
  // Not there, or too near the end to make up minShare of the text: nothing worth scanning.
  if (at === -1 || text.length - at < text.length * minShare) return text;
  const cuts: number[] = []; // [start, stop) pairs, in order
  let cutLength = 0;
  let from = 0; // the end of the last cut
  while (at !== -1) {
    let i = at + key.length;
    while (isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== COLON || text.charCodeAt(at - 1) === BACKSLASH) {
      at = text.indexOf(key, at + 1);
      continue;
    }
    i++;
    while (isSpace(text.charCodeAt(i))) i++;
    const end = valueEnd(text, i);
    // Cut short (a truncated body): left whole, for JSON.parse to refuse.
    if (end === -1) return text;
    // With the comma before it (`,"name":v`), or, first in its object, with the one after it.
    // Nothing but spaces between the last cut and this one: the last cut was first in its
    // object too (a cut never leaves the comma before it), so this one is first now.
    let start = at;
    let stop = end;
    let before = at - 1;
    while (before >= from && isSpace(text.charCodeAt(before))) before--;
    if (before >= from && text.charCodeAt(before) === COMMA) start = before;
    else {
      while (isSpace(text.charCodeAt(stop))) stop++;
      if (text.charCodeAt(stop) === COMMA) stop++;
      else stop = end;
    }
    cuts.push(start, stop);
    cutLength += stop - start;
    from = stop;
    at = text.indexOf(key, stop);
  }
  if (cutLength < text.length * minShare) return text;
  let kept = '';
  let copied = 0;
  for (let c = 0; c < cuts.length; c += 2) {
    kept += text.slice(copied, cuts[c]);
    copied = cuts[c + 1] as number;
  }
  return kept + text.slice(copied);
}

/** The index just past the JSON value starting at `i`, or -1 when the text ends first. */
function valueEnd(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === QUOTE) return stringEnd(text, i);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number, true, false or null: up to the next delimiter.
    const n = text.length;
    while (i < n) {
      const code = text.charCodeAt(i);
      if (code === COMMA || (code | 0x20) === CLOSE_BRACE || isSpace(code)) return i;
      i++;
    }
    return -1;
  }
  // The tests in the order of what a value holds most: whitespace (indented JSON is mostly
  // indentation), then strings; `| 0x20` folds `[` into `{` and `]` into `}`. With the brackets
  // tested first, cutting from VirusTotal objects indented by 4 spaces cost as much as the parse
  // it saved (vt3's `pnpm bench` measures both spellings).
  let depth = 0;
  for (const n = text.length; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20) continue;
    if (code === QUOTE) {
      i = stringEnd(text, i) - 1;
      if (i < 0) return -1;
    } else if ((code | 0x20) === OPEN_BRACE) depth++;
    else if ((code | 0x20) === CLOSE_BRACE && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * The index just past the string whose opening quote is at `i`, or -1. Jumps from quote to quote
 * with `indexOf` (most of a value's characters are inside strings), checking each for escaping.
 */
function stringEnd(text: string, i: number): number {
  for (;;) {
    i = text.indexOf('"', i + 1);
    if (i === -1) return -1;
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === BACKSLASH) backslashes++;
    if ((backslashes & 1) === 0) return i + 1;
  }
}
