export interface SlowProxy {
  readonly url: string;
  readonly arrived: number;
  readonly slowArrived: number;
  waitForArrivals(count: number): Promise<void>;
  release(): void;
  close(): Promise<void>;
}
export function startSlowProxy(options: { target: string; isSlow: (path: string) => boolean; slowMs?: number }): Promise<SlowProxy>;
