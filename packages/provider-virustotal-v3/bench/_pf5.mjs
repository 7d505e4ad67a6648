import { readFileSync } from 'node:fs';
import { parseJsonWithout } from '@x/core';
const DIR = '/work/main/packages/provider-virustotal-v3/test/fixtures/';
function stringEnd(text, i) { for (;;) { i = text.indexOf('"', i + 1); if (i === -1) return -1; let b = 0; while (text.charCodeAt(i - 1 - b) === 92) b++; if ((b & 1) === 0) return i + 1; } }
function valueEnd2(text, i) {
  let depth = 0;
  for (const n = text.length; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20) continue;
    if (code === 0x22) { i = stringEnd(text, i) - 1; if (i < 0) return -1; }
    else if ((code | 0x20) === 0x7b) depth++;
    else if ((code | 0x20) === 0x7d && --depth === 0) return i + 1;
  }
  return -1;
}
// variant 3: after a string, skip the usual gap ': ' / ', \n   ' quickly by indexOf of next quote and scanning only for brackets with a regex test when the gap is long
function cut2(text, name) {
  const key = `"${name}"`; const at = text.indexOf(key); if (at < 0) return text;
  let i = at + key.length; while (text.charCodeAt(i) <= 0x20) i++; i++; while (text.charCodeAt(i) <= 0x20) i++;
  const end = valueEnd2(text, i);
  let before = at - 1; while (text.charCodeAt(before) <= 0x20) before--;
  return text.charCodeAt(before) === 0x2c ? text.slice(0, before) + text.slice(end) : text.slice(0, at) + text.slice(end).replace(/^\s*,/, '');
}
const cases = [];
for (const n of ['ip_address_8.8.8.8', 'domain_virustotal.com_benign']) { const o = JSON.parse(readFileSync(DIR + n + '.json', 'utf8')); cases.push([n.slice(0, 20) + ' compact', JSON.stringify(o)], [n.slice(0, 20) + ' 4-space', JSON.stringify(o, null, 4)]); }
const min = (f, buf) => { let best = Infinity; for (let r = 0; r < 15; r++) { const t = performance.now(); for (let i = 0; i < 200; i++) f(buf.toString('utf8')); best = Math.min(best, (performance.now() - t) / 200 * 1000); } return best; };
for (const [label, text] of cases) {
  const buf = Buffer.from(text);
  const d = min(() => 0, buf);
  const a = min((s) => JSON.parse(s), buf) - d; const b = min((s) => parseJsonWithout(s, ['last_analysis_results']), buf) - d; const c = min((s) => JSON.parse(cut2(s, 'last_analysis_results')), buf) - d;
  const cutOnly = min((s) => cut2(s, 'last_analysis_results').length, buf) - d;
  console.log(label.padEnd(30), 'whole', a.toFixed(1), 'current', b.toFixed(1), 'v2', c.toFixed(1), 'v2 cut only', cutOnly.toFixed(1));
}
