// Where a start's CPU goes, by bundled module: aggregates the `.cpuprofile` files of a directory
// (node --cpu-prof --cpu-prof-dir DIR) by package, by module and by function, in ms per profile.
// The bundle puts a module's code under a `// path/of/module.js` line when whitespace is not
// minified, so profile a build with `minifyWhitespace: false` (scripts/bundle.mjs) to see modules
// instead of chunks. Sampled self time: compare figures with each other, not with wall time.
//
//   node bench/cpuprofile-by-module.mjs DIR [top=40]
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [dir, top = '40'] = process.argv.slice(2);
const modulesByLine = new Map();

/** The bundled module a line of a file belongs to: the last `// path` line above it. */
function moduleOf(url, line) {
  if (!url.startsWith('file:')) return url || '(native)';
  let modules = modulesByLine.get(url);
  if (!modules) {
    modules = [];
    let current = url.slice(url.lastIndexOf('/') + 1);
    for (const text of readFileSync(fileURLToPath(url), 'utf8').split('\n')) {
      const marker = /^\/\/ (\S+\.(?:js|mjs|cjs|ts|json))$/.exec(text);
      if (marker) current = marker[1].replace(/.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, 'nm/').replace(/^(\.\.\/)+/, '');
      modules.push(current);
    }
    modulesByLine.set(url, modules);
  }
  return modules[line] ?? url;
}

const packageOf = (module) => {
  if (!module.startsWith('nm/')) return module.replace(/\/(src|dist)\/.*/, '');
  const parts = module.split('/');
  return parts.slice(0, parts[1].startsWith('@') ? 3 : 2).join('/');
};

const byPackage = new Map();
const byModule = new Map();
const byFunction = new Map();
const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
const files = readdirSync(dir).filter((file) => file.endsWith('.cpuprofile'));
for (const file of files) {
  const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const { url, lineNumber, functionName } = nodes.get(id).callFrame;
    const module = moduleOf(url, lineNumber);
    add(byPackage, packageOf(module), us);
    add(byModule, module, us);
    add(byFunction, `${functionName || '(anonymous)'} ${module}:${lineNumber}`, us);
  });
}
const print = (title, map) => {
  console.log(title);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`  ${(us / 1000 / files.length).toFixed(2).padStart(7)}  ${key}`);
};
console.log(`${files.length} profiles`);
print('by package (ms per profile)', byPackage);
print('by module', byModule);
print('by function', byFunction);
