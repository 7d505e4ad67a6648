import { readFileSync } from 'node:fs';
import { parseJsonWithout } from '@x/core';
const DIR = '/work/main/packages/provider-virustotal-v3/test/fixtures/';
const names = ['ip_address_8.8.8.8', 'url_dropbox_xls_malicious', 'domain_virustotal.com_benign', 'file_01ba4719_win32_exe_malicious'];
const sim = readFileSync('/tmp/body-ip.json', 'utf8');
const cases = [['sim ip compact', sim]];
for (const n of names) { const p = readFileSync(DIR + n + '.json', 'utf8'); const o = JSON.parse(p); cases.push([n.slice(0, 22) + ' compact', JSON.stringify(o)], [n.slice(0, 22) + ' 4-space', JSON.stringify(o, null, 4)]); }
const min = (f, buf) => { let best = Infinity; for (let r = 0; r < 15; r++) { const t = performance.now(); for (let i = 0; i < 200; i++) f(buf.toString('utf8')); best = Math.min(best, (performance.now() - t) / 200 * 1000); } return best; };
for (const [label, text] of cases) {
  const buf = Buffer.from(text);
  const toStr = min(() => 0, buf);
  const a = min((s) => JSON.parse(s), buf); const b = min((s) => parseJsonWithout(s, ['last_analysis_results']), buf);
  console.log(label.padEnd(32), String(text.length).padStart(6), 'decode', toStr.toFixed(1), 'whole', (a - toStr).toFixed(1), 'without', (b - toStr).toFixed(1), 'ratio', ((b - toStr) / (a - toStr)).toFixed(2));
}
