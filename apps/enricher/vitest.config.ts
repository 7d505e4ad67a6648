import { defineConfig } from 'vitest/config';

// `@x/source` resolves workspace packages to their TypeScript sources for unit tests. The
// end-to-end tests (test/e2e) spawn the BUILT CLI instead, as a user would run it.
export default defineConfig({
  resolve: { conditions: ['@x/source'] },
  ssr: { resolve: { conditions: ['@x/source'] } },
  // The end-to-end tests spawn the CLI several times in one test (each run bounded at 30 s by
  // test/helpers/cli.ts); on a loaded 2-CPU machine four runs took more than 60 s in all. The
  // limits catch hangs and measure nothing: no test here times itself with them.
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 180_000 },
});
