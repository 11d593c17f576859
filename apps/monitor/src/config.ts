import { z } from 'zod';

/** `config.json` next to index.html: lets one static build point at any API (Vercel, a CDN, the API itself). */
export const MonitorConfigFile = z
  .object({
    /** Absolute http(s) URL of the Conveyor API, e.g. https://conveyor.example.com. */
    apiUrl: z.string().url('must be an absolute URL such as https://conveyor.example.com').optional(),
  })
  .strict();

export interface MonitorConfig {
  /** API origin (and optional path prefix) without a trailing slash. */
  readonly apiUrl: string;
  /** Where the URL came from, shown to the operator so a wrong setting is easy to trace. */
  readonly source: 'query' | 'config.json' | 'page origin';
}

export class ConfigError extends Error {
  readonly code = 'MONITOR_CONFIG_INVALID';
}

function normalise(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${what}: "${url}" is not an absolute URL; use e.g. https://conveyor.example.com`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${what}: "${url}" must be an http(s) URL`);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/**
 * The API URL, decided at run time: `?api=` wins, then `config.json`, then the page's own origin
 * (the API serving the build at /monitor/, or the Vite dev server proxying to the API).
 */
export async function loadConfig(location: Location, fetcher: typeof fetch = fetch): Promise<MonitorConfig> {
  const fromQuery = new URLSearchParams(location.search).get('api');
  if (fromQuery) return { apiUrl: normalise(fromQuery, 'the ?api= query parameter'), source: 'query' };
  const response = await fetcher(new URL('config.json', location.href), { cache: 'no-store' }).catch(() => null);
  if (response?.ok && response.headers.get('content-type')?.includes('json')) {
    const parsed = MonitorConfigFile.safeParse(await response.json().catch(() => null));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(`config.json: ${issue ? `${issue.path.join('.') || '(root)'} ${issue.message}` : 'is not valid'}`);
    }
    if (parsed.data.apiUrl) return { apiUrl: normalise(parsed.data.apiUrl, 'config.json apiUrl'), source: 'config.json' };
  }
  return { apiUrl: location.origin, source: 'page origin' };
}

/** ws(s):// URL of an API path. */
export function websocketUrl(apiUrl: string, path: string): string {
  return `${apiUrl.replace(/^http/, 'ws')}${path}`;
}
