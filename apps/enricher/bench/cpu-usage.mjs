// Loaded with `node --import` into a benchmarked child: writes the CPU time it used (user +
// system, microseconds, every thread) on exit. On a loaded machine wall-clock ratios move with
// the load; CPU per request says what each program itself costs.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  if (process.env.X_ENRICH_BENCH_CPU_FILE) writeFileSync(process.env.X_ENRICH_BENCH_CPU_FILE, String(user + system));
});
