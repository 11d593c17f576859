import type { ProxyOptions } from 'vite';

/**
 * The API paths the monitor calls, forwarded by `vite dev` / `vite preview` to `target`, so the
 * page can use its own origin as the API URL (no CORS, and WebSockets included).
 */
export function apiProxy(target: string): Record<string, string | ProxyOptions> {
  return {
    '/api': target,
    '/health': target,
    '/ready': target,
    '/ws': { target, ws: true },
  };
}
