import { defineConfig } from 'vitest/config';

// `@x/source` resolves workspace packages to their TypeScript sources, so tests never
// run against a stale build of a sibling package.
export default defineConfig({
  resolve: { conditions: ['@x/source'] },
  ssr: { resolve: { conditions: ['@x/source'] } },
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 20_000 },
});
