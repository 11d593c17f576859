// PM2 ecosystem for the Conveyor API: `pm2 start apps/api/ecosystem.config.cjs`, then
// `pm2 reload conveyor-api` for a zero-downtime rolling restart.
//
// Every instance shares one port through PM2's cluster mode. An instance counts as up only
// after it listens (wait_ready: main.ts sends 'ready'); on reload each old instance gets SIGINT,
// tells its SSE/WebSocket clients to reconnect, finishes in-flight requests and exits within
// CONVEYOR_SHUTDOWN_GRACE_MS, well inside kill_timeout.
//
// Read here (all optional):
//   CONVEYOR_API_INSTANCES  instances in the cluster (default: one per CPU core, "max")
//   CONVEYOR_API_NAME       PM2 app name (default conveyor-api)
//   CONVEYOR_API_MAX_MEMORY restart an instance above this resident memory (default 1G)
//   CONVEYOR_LOG_DIR        where merged logs go (default <repo>/.conveyor/logs)
//   CONVEYOR_REDIS_PORT     port of the Redis this file starts when REDIS_URL is unset (default 6390)
// and passed through to the API: PORT, HOST, REDIS_URL, LOG_LEVEL and every CONVEYOR_* variable
// (see src/env.ts).
const { existsSync, mkdirSync } = require('node:fs');
const path = require('node:path');

const env = process.env;
const repo = path.resolve(__dirname, '../..');
const dataDir = path.resolve(repo, env.CONVEYOR_DATA_DIR ?? '.conveyor');
const logDir = path.resolve(env.CONVEYOR_LOG_DIR ?? path.join(dataDir, 'logs'));

function instances() {
  const raw = env.CONVEYOR_API_INSTANCES;
  if (raw === undefined || raw === '' || raw === 'max') return 'max';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`CONVEYOR_API_INSTANCES=${JSON.stringify(raw)}: set it to a whole number >= 1 or "max"`);
  return n;
}

const graceMs = Number(env.CONVEYOR_SHUTDOWN_GRACE_MS ?? 10_000);
if (!Number.isInteger(graceMs) || graceMs < 1) throw new Error(`CONVEYOR_SHUTDOWN_GRACE_MS=${JSON.stringify(env.CONVEYOR_SHUTDOWN_GRACE_MS)}: set it to milliseconds, e.g. 10000`);
const passThrough = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('CONVEYOR_') || ['PORT', 'HOST', 'REDIS_URL', 'LOG_LEVEL'].includes(k)));
const apps = [];

// Cluster instances must share one Redis. Without REDIS_URL this file starts one under PM2 too,
// persisted under the data dir, so `pm2 start` alone is a complete local deployment.
let redisUrl = env.REDIS_URL;
if (!redisUrl) {
  const port = Number(env.CONVEYOR_REDIS_PORT ?? 6390);
  const redisDir = path.join(dataDir, 'redis-pm2');
  mkdirSync(redisDir, { recursive: true });
  redisUrl = `redis://127.0.0.1:${port}`;
  apps.push({
    name: 'conveyor-redis',
    script: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes'],
    interpreter: 'none',
    exec_mode: 'fork',
    autorestart: true,
    merge_logs: true,
    out_file: path.join(logDir, 'redis.out.log'),
    error_file: path.join(logDir, 'redis.err.log'),
  });
}

if (!existsSync(path.join(__dirname, 'dist/main.js'))) {
  throw new Error('apps/api/dist/main.js is missing: build it first with `pnpm --filter @conveyor/api build` (or `pnpm build`)');
}
mkdirSync(logDir, { recursive: true });
apps.push({
  name: env.CONVEYOR_API_NAME ?? 'conveyor-api',
  cwd: __dirname,
  // The compiled build: an instance is ready in about a second, where tsx took several.
  script: 'dist/main.js',
  interpreter: 'node',
  node_args: ['--enable-source-maps'],
  exec_mode: 'cluster',
  instances: instances(),
  wait_ready: true,
  listen_timeout: 30_000,
  kill_timeout: graceMs + 5000,
  max_memory_restart: env.CONVEYOR_API_MAX_MEMORY ?? '1G',
  merge_logs: true,
  out_file: path.join(logDir, 'api.out.log'),
  error_file: path.join(logDir, 'api.err.log'),
  env: { ...passThrough, REDIS_URL: redisUrl, CONVEYOR_DATA_DIR: dataDir },
});

module.exports = { apps };
