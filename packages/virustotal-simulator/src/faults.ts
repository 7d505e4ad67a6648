import type { Faults } from './options.js';
import { digest, SeededRandom } from './rng.js';

/** What happens to one API request. */
export interface FaultPlan {
  delayMs: number;
  /** Destroy the connection without a response. */
  reset: boolean;
  /** Answer with this 5xx instead of the real response. */
  errorStatus: number | null;
  body: 'truncate' | 'malformed' | null;
  /** Drip the body over this many ms (0: send at once). */
  slowBodyMs: number;
}

/**
 * Draws fault decisions from a PRNG seeded by the simulator seed. Every request draws the same
 * number of values whatever the rates are, so raising one rate does not reshuffle the others,
 * and `reseed()` (on setFaults and reset) makes a sequence of requests fail the same way again.
 */
export class FaultInjector {
  private rng: SeededRandom;

  constructor(
    private faults: Faults,
    private readonly seed: string,
  ) {
    this.rng = new SeededRandom(digest('faults', seed));
  }

  current(): Faults {
    return this.faults;
  }

  set(faults: Faults): void {
    this.faults = faults;
    this.reseed();
  }

  reseed(): void {
    this.rng = new SeededRandom(digest('faults', this.seed));
  }

  plan(): FaultPlan {
    const f = this.faults;
    const [jitter, reset, error, status, body, slow] = [0, 0, 0, 0, 0, 0].map(() => this.rng.next()) as [number, number, number, number, number, number];
    const reseted = reset < f.resetRate;
    const errored = !reseted && error < f.errorRate;
    let bodyFault: FaultPlan['body'] = null;
    if (body < f.truncateRate) bodyFault = 'truncate';
    else if (body < f.truncateRate + f.malformedRate) bodyFault = 'malformed';
    return {
      delayMs: f.latencyMs + (f.jitterMs > 0 ? jitter * f.jitterMs : 0),
      reset: reseted,
      errorStatus: errored ? (f.errorStatuses[Math.floor(status * f.errorStatuses.length)] as number) : null,
      body: bodyFault,
      slowBodyMs: f.slowBodyMs > 0 && slow < f.slowBodyRate ? f.slowBodyMs : 0,
    };
  }
}
