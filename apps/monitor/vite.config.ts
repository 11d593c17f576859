import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { apiProxy } from './scripts/api-proxy.ts';
import { configFile } from './scripts/config-file.ts';

/** Where `vite dev` and `vite preview` forward API calls (`pnpm dev` sets it to the API it starts). */
const proxy = apiProxy(process.env.CONVEYOR_API_PROXY ?? 'http://127.0.0.1:8080');

export default defineConfig({
  // Relative asset URLs: the same build works at a site root (Vercel) and under /monitor/ (served by the API).
  base: './',
  plugins: [react(), configFile(process.env.CONVEYOR_MONITOR_API_URL)],
  server: { proxy },
  preview: { proxy },
  build: { outDir: 'dist', sourcemap: true },
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
});
