import { defineConfig } from 'vitest/config';

// Resolve @x/core to its sources, like every package in this repository.
export default defineConfig({
  resolve: { conditions: ['@x/source'] },
  ssr: { resolve: { conditions: ['@x/source'] } },
});
