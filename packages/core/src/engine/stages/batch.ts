import type { Clock } from '../../contract/tokens.js';
import { XEnrichError } from '../../contract/x-enrich-error.js';
import type { ProviderManifest } from '../../contract/manifest.js';
import type { Observable, ObservableType } from '../../contract/observable-type.js';
import type { EnrichmentProvider, ProviderOutcome } from '../../contract/provider.js';
import { NEVER_ABORTED } from '../../resilience/attempt-timeout.js';
import { SharedSignal } from '../shared-signal.js';
import type { CallContext, CallResult, FetchResult, LookupContext, Next, Stage } from './stage.js';

/** How an instance batches: the groups of types sent together, at most `maxSize` per call, `maxWaitMs` after the first. */
export interface BatchSettings {
  groups: ReadonlyArray<readonly ObservableType[]>;
  maxSize: number;
  maxWaitMs: number;
}

/**
 * The batch settings of a provider with `enrichMany` and `manifest.batch`, or undefined (no
 * batching). The size is the smaller of the manifest's `maxSize` and the instance's `batchSize`.
 * @throws X_PLUGIN_REGISTER_FAILED when the provider's `batchSize` is not a whole number of 1 or more.
 */
export function batchSettings(provider: EnrichmentProvider, manifest: ProviderManifest, instance: string): BatchSettings | undefined {
  if (!provider.enrichMany || !manifest.batch) return undefined;
  const { maxSize: manifestMax, maxWaitMs, groups = [manifest.observableTypes] } = manifest.batch;
  const instanceSize = provider.batchSize;
  if (instanceSize !== undefined && !(Number.isInteger(instanceSize) && instanceSize >= 1)) {
    throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `Provider "${instance}" (${manifest.packageName}) has batchSize ${String(instanceSize)}; expected a whole number of 1 or more.`);
  }
  return { groups, maxSize: Math.min(manifestMax, instanceSize ?? manifestMax), maxWaitMs };
}

/**
 * The batch stage, where a lookup becomes a call. Types in a batch group queue up and go as one
 * `enrichMany` call of up to `maxSize` observables, when the group is full or `maxWaitMs` (on the
 * clock) after its first member; other types go alone through `enrich`. Either way the outcome
 * comes back stamped with the clock's time as `fetchedAt`.
 */
export class BatchStage implements Stage<LookupContext, FetchResult, CallContext, CallResult> {
  private readonly batchers = new Map<ObservableType, Batcher>();
  private readonly settings: BatchSettings | undefined;
  /** The `next` the batchers were made for (`execute` is always given the same one: the chain is linked once). */
  private batchersFor: Next<CallContext, CallResult> | undefined;

  constructor(
    private readonly clock: Clock,
    settings: BatchSettings | undefined,
  ) {
    this.settings = settings;
  }

  /** True when some type is batched. */
  get batching(): boolean {
    return this.settings !== undefined && this.settings.groups.some((group) => group.length > 0);
  }

  execute(context: LookupContext, next: Next<CallContext, CallResult>): Promise<FetchResult> {
    const signal = context.signal ?? NEVER_ABORTED;
    const batcher = this.settings ? this.batcherFor(context.observable.type, next) : undefined;
    if (batcher) return batcher.submit(context.observable, signal).then((outcome) => this.fetched(outcome));
    return next({ observables: [context.observable], batch: false, signal }).then((results) => {
      const result = results[0] as ProviderOutcome | Error;
      if (result instanceof Error) throw result;
      return this.fetched(result);
    });
  }

  /** The batcher of `type`'s group, or undefined when the type goes alone; the batchers are made on the first call, for its `next`. */
  private batcherFor(type: ObservableType, next: Next<CallContext, CallResult>): Batcher | undefined {
    if (this.batchersFor !== next) {
      // Made once (a stage linked into a second chain gets batchers of its own for that chain).
      this.batchers.clear();
      this.batchersFor = next;
      const settings = this.settings as BatchSettings;
      for (const group of settings.groups) {
        const batcher = new Batcher(settings.maxSize, settings.maxWaitMs, this.clock, next);
        for (const type of group) this.batchers.set(type, batcher);
      }
    }
    return this.batchers.get(type);
  }

  private fetched(outcome: ProviderOutcome): FetchResult {
    return { outcome, fetchedAt: this.clock.now(), fromCache: false };
  }
}

interface Pending {
  observable: Observable;
  signal: AbortSignal;
  resolve(outcome: ProviderOutcome): void;
  reject(error: unknown): void;
}

/** One batch group's queue: flushed when full, or `maxWaitMs` after its first member arrived. */
class Batcher {
  private queue: Pending[] = [];
  /** Cancels the pending flush when the group fills up first. */
  private timer: AbortController | undefined;

  constructor(
    private readonly maxSize: number,
    private readonly maxWaitMs: number,
    private readonly clock: Clock,
    /** The rest of the chain (guard -> call), the same for every batch: given once, not per lookup. */
    private readonly next: Next<CallContext, CallResult>,
  ) {}

  submit(observable: Observable, signal: AbortSignal): Promise<ProviderOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ observable, signal, resolve, reject });
      if (this.queue.length >= this.maxSize) this.flush();
      else if (!this.timer) this.schedule();
    });
  }

  private schedule(): void {
    const timer = new AbortController();
    this.timer = timer;
    this.clock.sleep(this.maxWaitMs, timer.signal).then(
      () => {
        if (this.timer === timer) this.flush();
      },
      () => undefined, // cancelled: the group filled up first
    );
  }

  private flush(): void {
    this.timer?.abort();
    this.timer = undefined;
    const items = this.queue.splice(0, this.maxSize);
    if (this.queue.length > 0) this.schedule();
    if (items.length > 0) void this.send(items);
  }

  private async send(items: Pending[]): Promise<void> {
    // The batch is cancelled only when every lookup in it was; when one of them cannot abort,
    // nothing can cancel it, and it needs no shared signal (nor listeners on the others).
    let shared: SharedSignal | undefined;
    if (!items.some((item) => item.signal === NEVER_ABORTED)) {
      shared = new SharedSignal();
      for (const item of items) shared.join(item.signal);
    }
    try {
      const results = await this.next({ observables: items.map((item) => item.observable), batch: true, signal: shared ? shared.signal : NEVER_ABORTED });
      items.forEach((item, i) => {
        const result = results[i];
        if (result instanceof Error) item.reject(result);
        else item.resolve(result as ProviderOutcome);
      });
    } catch (error) {
      for (const item of items) item.reject(error);
    } finally {
      shared?.dispose();
    }
  }
}
