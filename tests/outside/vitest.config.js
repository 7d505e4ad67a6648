import { defineConfig } from 'vitest/config';

// One file, run once: the cases share one npm install of the packed tarballs.
export default defineConfig({
  test: { include: ['test/**/*.test.js'], testTimeout: 300_000, hookTimeout: 600_000, fileParallelism: false },
});
