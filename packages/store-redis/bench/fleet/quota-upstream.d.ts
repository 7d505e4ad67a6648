export interface QuotaUpstream {
  url: string;
  stats(): { total: number; refused: number; served: number; distinct: number; duplicates: number; timeline: number[] };
  close(): Promise<void>;
}
export function startQuotaUpstream(options: { quota: { requests: number; perMs: number }; latencyMs?: number }): Promise<QuotaUpstream>;
