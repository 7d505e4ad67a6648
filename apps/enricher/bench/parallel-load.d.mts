export interface ParallelLoadResult {
  records: number;
  errorRecords: number;
  errorCodes: string[];
  overloaded: number;
  retryAfterMissing: number;
  statuses: Record<string, number>;
}
export function parallelEnrich(options: { url: string; requests: number; perRequest: number; token?: string; observable: (i: number) => string; maxAttempts?: number }): Promise<ParallelLoadResult>;
