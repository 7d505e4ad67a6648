import type { Clock } from '../contract/tokens.js';
import { XEnrichError, isUpstreamError } from '../contract/x-enrich-error.js';

/**
 * Stops an instance's upstream calls after a definitive authentication failure (401/403): a
 * wrong API key would otherwise be sent once per observable (500 inputs, 500 refusals: noise in
 * the provider's logs and a risk of the key being banned). Every later call fails fast with the
 * same X_UPSTREAM_AUTH. With `probeAfterMs` (the service), one call goes through once that much
 * time has passed since the refusal: success releases the latch, another 401/403 sets it again.
 * With `false` (the CLI) it holds for the run.
 */
export interface AuthLatch {
  /** `true` to run the call, or the error to fail it with at once. */
  admit(): true | XEnrichError;
  /**
   * A call succeeded: a probe's success releases the latch. Called by whoever runs the call
   * (the policies, from the one handler pair they have per call anyway).
   */
  succeeded(): void;
  /** A call failed: a 401/403 sets the latch (the caller rethrows `error`). */
  failed(error: unknown): void;
}

export function createAuthLatch(probeAfterMs: number | false, clock: Clock, onChange?: (state: 'latched' | 'released') => void): AuthLatch {
  let refusal: XEnrichError | undefined;
  let latchedAt = 0;
  let probing = false;
  return {
    admit() {
      if (!refusal) return true;
      if (probeAfterMs !== false && !probing && clock.now() - latchedAt >= probeAfterMs) {
        probing = true;
        return true;
      }
      return new XEnrichError(
        refusal.code,
        `${refusal.message} (an earlier call was refused; this instance makes no more calls ${probeAfterMs === false ? 'in this run' : 'until a probe succeeds'}: fix the credentials).`,
        { retryable: false, details: refusal.details },
      );
    },
    succeeded() {
      if (refusal && probing) {
        refusal = undefined;
        probing = false;
        onChange?.('released');
      }
    },
    failed(error) {
      if (isUpstreamError(error) && error.kind === 'auth') {
        const first = !refusal;
        refusal = error;
        latchedAt = clock.now();
        probing = false;
        if (first) onChange?.('latched');
      } else if (probing) {
        // A probe that failed otherwise (network) says nothing about the key: probe again next time.
        probing = false;
      }
    },
  };
}
