// Loaded with `node --import` into a benchmarked child: writes its peak RSS (bytes) on exit.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.X_ENRICH_BENCH_RSS_FILE) writeFileSync(process.env.X_ENRICH_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS * 1024));
});
