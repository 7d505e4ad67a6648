/**
 * Every key and channel the stores use, in one place. Layout under the prefix:
 * - `cache:<engine key>`                      a JSON `CacheEntry`, expiring with it (PX);
 * - `rl:{<limit key>}:log`                    the charge log, one sorted set for every window;
 * - `rl:{<limit key>}:seq`                    a counter that makes log members unique;
 * - `rl:{<limit key>}:blocked`                after a refusal, until when nothing is granted (PX);
 * - `rl:{<limit key>}:lowered`                budgets lowered after refusals, shared by the fleet (hash, PX);
 * - `rl:{<limit key>}:demand`                 outstanding demand per participant, for estimates (hash, PX);
 * - `claim:{<engine key>}`                    the cross-process fetch claim (SET NX PX);
 * - `fetched:{<engine key>}`                  "just fetched" marker, refusing new claims briefly;
 * - channel `claim-released`                  a message (the engine key) per release.
 * The `{...}` hash tags keep the keys one Lua script touches in one Redis Cluster slot, which
 * a multi-key script requires.
 */
export class KeyLayout {
  constructor(readonly prefix: string) {}

  cache(key: string): string {
    return `${this.prefix}cache:${key}`;
  }

  cachePattern(): string {
    return `${escapeGlob(this.prefix)}cache:*`;
  }

  rateLog(key: string): string {
    return `${this.prefix}rl:{${key}}:log`;
  }

  rateBlocked(key: string): string {
    return `${this.prefix}rl:{${key}}:blocked`;
  }

  rateLowered(key: string): string {
    return `${this.prefix}rl:{${key}}:lowered`;
  }

  rateDemand(key: string): string {
    return `${this.prefix}rl:{${key}}:demand`;
  }

  rateSequence(key: string): string {
    return `${this.prefix}rl:{${key}}:seq`;
  }

  ratePattern(key: string): string {
    return `${escapeGlob(this.prefix)}rl:{${escapeGlob(key)}}:*`;
  }

  claim(key: string): string {
    return `${this.prefix}claim:{${key}}`;
  }

  fetched(key: string): string {
    return `${this.prefix}fetched:{${key}}`;
  }

  releasedChannel(): string {
    return `${this.prefix}claim-released`;
  }
}

/** Escapes glob metacharacters so SCAN MATCH treats the prefix literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
