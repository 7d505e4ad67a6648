import { readFileSync, readdirSync } from 'node:fs';
import { parseJsonWithout } from '@x/core';
const DIR = '/work/main/packages/provider-virustotal-v3/test/fixtures/';
const time = (body, parse) => { let best = Infinity; for (let r = 0; r < 7; r++) { const t = performance.now(); for (let i = 0; i < 100; i++) parse(body.toString('utf8')); best = Math.min(best, (performance.now() - t) * 10); } return best; };
for (const name of readdirSync(DIR).filter((n) => n.endsWith('.json') && !n.startsWith('error_') && !n.startsWith('collection_'))) {
  const o = JSON.parse(readFileSync(DIR + name, 'utf8'));
  const body = Buffer.from(JSON.stringify(o, null, 4)); const text = body.toString();
  const d = time(body, () => 0); const w = time(body, (t) => JSON.parse(t)) - d; const c = time(body, (t) => parseJsonWithout(t, ['last_analysis_results'])) - d;
  const v = JSON.stringify(o.data?.attributes?.last_analysis_results ?? o.attributes?.last_analysis_results ?? null, null, 4)?.length ?? 0;
  console.log(name.slice(0, 40).padEnd(40), String(body.length).padStart(7), 'share', (v / body.length).toFixed(2), 'whole', w.toFixed(0).padStart(5), 'cut', c.toFixed(0).padStart(5), (c / w).toFixed(2));
}
