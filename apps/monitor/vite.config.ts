import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { apiProxy } from './scripts/api-proxy.ts';
import { configFile } from './scripts/config-file.ts';

/** Where `vite dev` and `vite preview` forward API calls (`pnpm dev` sets it to the API it starts). */
const proxy = apiProxy(process.env.CONVEYOR_API_PROXY ?? 'http://127.0.0.1:8080');

/** The build and dev server only; tests add their settings in vitest.config.ts, so a production install (no vitest) can build. */
export default defineConfig({
  // Relative asset URLs: the same build works at a site root (Vercel) and under /monitor/ (served by the API).
  base: './',
  plugins: [react(), configFile(process.env.CONVEYOR_MONITOR_API_URL)],
  server: { proxy },
  preview: { proxy },
  build: { outDir: 'dist', sourcemap: true },
});
