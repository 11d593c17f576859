import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@conveyor/testing';
import type * as Pm2Api from 'pm2';

const apiDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../apps/api');

export interface RunningApi {
  readonly url: string;
  stop(): Promise<void>;
}

async function waitReady(url: string, what: string, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await fetch(`${url}/ready`).then((r) => r.ok, () => false))) {
    if (!alive()) throw new Error(`${what} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${what} was not ready within 60 s`);
    await sleep(100);
  }
}

function apiEnv(redisUrl: string, namespace: string, port: number, logLevel: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    CONVEYOR_NAMESPACE: namespace,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: logLevel,
    // Admission limits off: the benchmark measures the submit path, not the limiter saying no.
    CONVEYOR_TENANT_SUBMITS_PER_SEC: '0',
    CONVEYOR_TENANT_MAX_PENDING: '0',
  };
}

/** One API process, started exactly as `pnpm --filter @conveyor/api start` would. */
export async function startSingle(redisUrl: string, namespace: string, logLevel: string): Promise<RunningApi> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: apiDir,
    env: { ...process.env, ...apiEnv(redisUrl, namespace, port, logLevel) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, 'API process', () => child.exitCode === null);
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

type Pm2 = typeof Pm2Api;
const call = <T>(fn: (cb: (err: unknown, value: T) => void) => void) =>
  new Promise<T>((res, rej) => fn((err, value) => (err ? rej(err instanceof Error ? err : new Error(JSON.stringify(err))) : res(value))));

/** The PM2 cluster from apps/api/ecosystem.config.cjs, under a private PM2_HOME that is removed afterwards. */
export async function startCluster(redisUrl: string, namespace: string, logLevel: string, instances: number | 'max'): Promise<RunningApi & { instances: number }> {
  const port = await freePort();
  const home = await mkdtemp(join(tmpdir(), 'conveyor-bench-pm2-'));
  const saved = { ...process.env };
  // PM2 reads PM2_HOME when loaded; the ecosystem file reads the rest when started.
  Object.assign(process.env, apiEnv(redisUrl, namespace, port, logLevel), {
    PM2_HOME: home,
    CONVEYOR_API_NAME: 'conveyor-api-bench',
    CONVEYOR_API_INSTANCES: String(instances),
    CONVEYOR_LOG_DIR: join(home, 'logs'),
  });
  // pm2 is CommonJS: its API object is the default export, which its typings do not declare.
  const pm2: Pm2 = ((await import('pm2')) as unknown as { default: Pm2 }).default;
  await call<void>((cb) => pm2.connect((err) => cb(err, undefined)));
  const stop = async () => {
    await call((cb) => pm2.delete('conveyor-api-bench', cb)).catch(() => undefined);
    await call((cb) => pm2.killDaemon(cb)).catch(() => undefined);
    pm2.disconnect();
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    await rm(home, { recursive: true, force: true });
  };
  try {
    await call((cb) => pm2.start(join(apiDir, 'ecosystem.config.cjs'), cb));
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, 'PM2 cluster', () => true);
    const list = await call<{ name?: string; pm2_env?: { status?: string } }[]>((cb) => pm2.list(cb));
    const online = list.filter((p) => p.name === 'conveyor-api-bench' && p.pm2_env?.status === 'online').length;
    return { url, instances: online, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
