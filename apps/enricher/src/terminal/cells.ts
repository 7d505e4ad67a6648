import stringWidth from 'string-width';

/**
 * Text measured in terminal cells, not UTF-16 units: a CJK character or an emoji takes two
 * cells, a combining mark none, and ANSI colour codes none. string-width (sindresorhus) knows
 * the Unicode East Asian Width and emoji tables, which a `.length` cannot.
 */
export function cellWidth(text: string): number {
  return stringWidth(text);
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const graphemes = (text: string): string[] => Array.from(segmenter.segment(text), (part) => part.segment);

/** The longest start of `parts` (graphemes) that fits `cells`. */
function take(parts: readonly string[], cells: number): string {
  let out = '';
  let used = 0;
  for (const part of parts) {
    const width = stringWidth(part);
    if (used + width > cells) break;
    out += part;
    used += width;
  }
  return out;
}

/** `text` cut at the end to at most `cells` cells, with `…` when cut. Plain text only (no colour codes). */
export function fitCells(text: string, cells: number): string {
  if (stringWidth(text) <= cells) return text;
  if (cells <= 0) return '';
  return take(graphemes(text), cells - 1) + '…';
}

/**
 * `text` shortened in the middle to at most `cells` cells: `0000000010…0000`. For hashes and
 * URLs, whose start and end are what a person compares.
 */
export function middleCut(text: string, cells: number): string {
  if (stringWidth(text) <= cells) return text;
  if (cells <= 1) return fitCells(text, cells);
  const parts = graphemes(text);
  const tailCells = Math.floor((cells - 1) / 3);
  const head = take(parts, cells - 1 - tailCells);
  const tail = reverseTake(parts, cells - 1 - stringWidth(head));
  return `${head}…${tail}`;
}

/** The longest end of `parts` that fits `cells`. */
function reverseTake(parts: readonly string[], cells: number): string {
  let out = '';
  let used = 0;
  for (let i = parts.length - 1; i >= 0; i--) {
    const width = stringWidth(parts[i] as string);
    if (used + width > cells) break;
    out = (parts[i] as string) + out;
    used += width;
  }
  return out;
}

/** `text` padded with spaces to `cells` cells. */
export function padCells(text: string, cells: number): string {
  const width = stringWidth(text);
  return width >= cells ? text : text + ' '.repeat(cells - width);
}
