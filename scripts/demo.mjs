/* global process */
// `pnpm demo`: builds what the demo needs (turbo: about a minute on a fresh clone, a second when
// cached), saying so first so a silent minute does not look like a hang, then runs `x-enrich demo`.
import { spawnSync } from 'node:child_process';

const say = (text) => process.stderr.write(`${text}\n`);
say('x-enrich demo: building x-enrich and the packages it uses (the first run takes about a minute; later runs reuse the build)...');
const started = Date.now();
const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@x/enricher...', '--output-logs=errors-only', '--log-prefix=none'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (build.status !== 0) {
  say(`x-enrich demo: the build failed (exit ${build.status ?? build.signal}); run \`pnpm build\` to see why.`);
  process.exit(build.status ?? 1);
}
say(`x-enrich demo: built in ${((Date.now() - started) / 1000).toFixed(1)}s.\n`);
const demo = spawnSync(process.execPath, ['apps/enricher/dist/cli.js', 'demo', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(demo.status ?? 1);
