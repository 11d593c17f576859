import { defineConfig, mergeConfig } from 'vitest/config';
import viteConfig from './vite.config.ts';

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      // The end-to-end suite starts real processes on free ports; one file at a time keeps it predictable.
      fileParallelism: false,
      projects: [
        {
          extends: true,
          test: { name: 'components', environment: 'jsdom', include: ['test/**/*.test.{ts,tsx}'], setupFiles: ['test/setup.ts'] },
        },
        {
          extends: true,
          test: { name: 'e2e', environment: 'node', include: ['e2e/**/*.e2e.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 },
        },
      ],
    },
  }),
);
