import { readFileSync } from 'node:fs';
import { parseJsonWithout } from '@x/core';
const DIR = '/work/main/packages/provider-virustotal-v3/test/fixtures/';
for (const name of (process.argv[2] ?? 'ip_address_8.8.8.8,url_dropbox_xls_malicious,file_2520524c_network_capture_clean').split(',')) {
  const pretty = readFileSync(DIR + name + '.json', 'utf8');
  const compact = JSON.stringify(JSON.parse(pretty)); const four = JSON.stringify(JSON.parse(pretty), null, 4);
  for (const [label, text] of [['compact', compact], ['2-space', pretty], ['4-space', four]]) {
    const time = (f) => { for (let i = 0; i < 300; i++) f(); let best = Infinity; for (let r = 0; r < 5; r++) { const t = performance.now(); for (let i = 0; i < 300; i++) f(); best = Math.min(best, (performance.now() - t) / 300 * 1000); } return best; };
    const a = time(() => JSON.parse(text)); const b = time(() => parseJsonWithout(text, ['last_analysis_results']));
    const k = text.indexOf('"last_analysis_results"'); const v = JSON.stringify(JSON.parse(text).data?.attributes?.last_analysis_results ?? {}).length;
    console.log(name.slice(0, 30).padEnd(30), label.padEnd(8), String(text.length).padStart(7), 'key at', k, 'value ~', v, 'whole', a.toFixed(1), 'without', b.toFixed(1), (b / a).toFixed(2));
  }
}
