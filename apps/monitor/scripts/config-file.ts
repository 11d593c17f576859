import type { Plugin } from 'vite';

/**
 * `CONVEYOR_MONITOR_API_URL=https://api.example pnpm build` also writes `dist/config.json`, so a
 * host that builds from git (Vercel) can be pointed at its API with an environment variable. The
 * file stays an ordinary run-time setting: edit it after the build, or override it with `?api=`.
 */
export function configFile(apiUrl: string | undefined): Plugin {
  return {
    name: 'conveyor-monitor-config-file',
    apply: 'build',
    generateBundle() {
      if (!apiUrl) return;
      if (!/^https?:\/\/\S+$/.test(apiUrl)) this.error(`CONVEYOR_MONITOR_API_URL="${apiUrl}" is not an http(s) URL; set it to e.g. https://conveyor.example.com`);
      this.emitFile({ type: 'asset', fileName: 'config.json', source: `${JSON.stringify({ apiUrl }, null, 2)}\n` });
    },
  };
}
