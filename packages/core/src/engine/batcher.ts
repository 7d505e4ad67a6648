import type { Observable } from '../observable/observable-type.js';
import type { ProviderOutcome } from '../plugin/provider.js';
import { SharedSignal } from './shared-signal.js';

interface Pending {
  observable: Observable;
  signal: AbortSignal | undefined;
  resolve(outcome: ProviderOutcome): void;
  reject(error: unknown): void;
}

/**
 * Groups lookups for a provider with `enrichMany`: up to `maxSize` observables per call, sent
 * when the group is full or `maxWaitMs` after its first member arrived. `run` performs one call
 * (through the instance's policies) and returns one outcome or Error per observable.
 */
export class Batcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxSize: number,
    private readonly maxWaitMs: number,
    private readonly run: (observables: Observable[], signal: AbortSignal) => Promise<Array<ProviderOutcome | Error>>,
  ) {}

  submit(observable: Observable, signal: AbortSignal | undefined): Promise<ProviderOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ observable, signal, resolve, reject });
      if (this.queue.length >= this.maxSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.queue.splice(0, this.maxSize);
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), this.maxWaitMs);
    if (items.length > 0) void this.send(items);
  }

  private async send(items: Pending[]): Promise<void> {
    // The batch is cancelled only when every lookup in it was.
    const shared = new SharedSignal();
    for (const item of items) shared.join(item.signal);
    try {
      const results = await this.run(items.map((item) => item.observable), shared.signal);
      items.forEach((item, i) => {
        const result = results[i];
        if (result instanceof Error) item.reject(result);
        else item.resolve(result as ProviderOutcome);
      });
    } catch (error) {
      for (const item of items) item.reject(error);
    } finally {
      shared.dispose();
    }
  }
}
