/** `observable` or `observables` for `count`; with `withCount`, `1 observable`, `2 observables`. */
export function plural(count: number, noun: string, withCount = false): string {
  const word = count === 1 ? noun : `${noun}s`;
  return withCount ? `${count} ${word}` : word;
}
