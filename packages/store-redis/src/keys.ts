/**
 * Every key and channel the stores use, in one place. Layout under the prefix:
 * - `cache:<engine key>`                      a JSON `CacheEntry`, expiring with it (PX);
 * - `rl:{<limit key>}:<perMs>:<requests>`     one sorted set per window (a sliding log);
 * - `rl:{<limit key>}:seq`                    a counter that makes log members unique;
 * - `claim:<engine key>`                      the cross-process fetch claim (SET NX PX);
 * - channel `claim-released`                  a message (the engine key) per release.
 * The `{<limit key>}` hash tag keeps every window of one limit in one Redis Cluster slot, which
 * a multi-key Lua script requires.
 */
export class KeyLayout {
  constructor(readonly prefix: string) {}

  cache(key: string): string {
    return `${this.prefix}cache:${key}`;
  }

  cachePattern(): string {
    return `${escapeGlob(this.prefix)}cache:*`;
  }

  rateWindow(key: string, window: { perMs: number; requests: number }): string {
    return `${this.prefix}rl:{${key}}:${window.perMs}:${window.requests}`;
  }

  rateSequence(key: string): string {
    return `${this.prefix}rl:{${key}}:seq`;
  }

  ratePattern(key: string): string {
    return `${escapeGlob(this.prefix)}rl:{${escapeGlob(key)}}:*`;
  }

  claim(key: string): string {
    return `${this.prefix}claim:${key}`;
  }

  releasedChannel(): string {
    return `${this.prefix}claim-released`;
  }
}

/** Escapes glob metacharacters so SCAN MATCH treats the prefix literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
