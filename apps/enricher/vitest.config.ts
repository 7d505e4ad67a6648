import { defineConfig } from 'vitest/config';

// `@x/source` resolves workspace packages to their TypeScript sources for unit tests. The
// end-to-end tests (test/e2e) spawn the BUILT CLI instead, as a user would run it.
export default defineConfig({
  resolve: { conditions: ['@x/source'] },
  ssr: { resolve: { conditions: ['@x/source'] } },
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
