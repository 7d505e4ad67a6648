import { createHash } from 'node:crypto';

/** SHA-256 of the parts joined with NUL: the stable hash every generated value derives from. */
export function digest(...parts: string[]): Buffer {
  return createHash('sha256').update(parts.join('\u0000')).digest();
}

/** Hex digest of a string with the given algorithm (md5, sha1, sha256). */
export function hashHex(algorithm: 'md5' | 'sha1' | 'sha256', value: string): string {
  return createHash(algorithm).update(value).digest('hex');
}

/**
 * A small seeded PRNG (mulberry32). Never Math.random: every simulated value and every injected
 * fault must replay exactly from the seed, in another process too.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: string | Buffer) {
    const bytes = typeof seed === 'string' ? digest('rng', seed) : seed;
    this.state = bytes.readUInt32BE(0);
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Lower-case hex of `length` characters. */
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += Math.floor(this.next() * 4294967296).toString(16).padStart(8, '0');
    return out.slice(0, length);
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }
}
