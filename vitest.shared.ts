// Shared vitest settings for every package: workspace imports resolve to sources, so a test never runs stale dist.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@unlearn\/([a-z-]+)$/, replacement: `${packagesDir}$1/src/index.ts` },
      // subpath exports (`@unlearn/tensors/sums`) name their source file
      { find: /^@unlearn\/([a-z-]+)\/([a-z-]+)$/, replacement: `${packagesDir}$1/src/$2.ts` },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: false, maxForks: 2 } },
  },
});
