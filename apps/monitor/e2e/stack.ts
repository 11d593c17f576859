import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@conveyor/testing';
import { build, preview, type PreviewServer } from 'vite';
import { apiProxy } from '../scripts/api-proxy.ts';
import { Child, waitFor } from '@conveyor/local-stack';

export const MONITOR_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(MONITOR_DIR, '../..');

/** The static build under test, written to a temp directory (the same `vite build` as `pnpm build`). */
export async function buildMonitor(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'conveyor-monitor-dist-'));
  // Vitest sets NODE_ENV=test, which would bundle React's development build; test what ships.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: MONITOR_DIR, mode: 'production', logLevel: 'warn', build: { outDir, emptyOutDir: true, sourcemap: false } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return outDir;
}

/** The real API (`apps/api/src/main.ts` under tsx) on a port kept across restarts, so a page can reconnect to it. */
export class ApiServer {
  private child: Child | undefined;

  private constructor(
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(env: NodeJS.ProcessEnv): Promise<ApiServer> {
    const server = new ApiServer(await freePort(), env);
    await server.start();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = Child.start('api', process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: join(ROOT, 'apps/api'),
      env: { ...process.env, LOG_LEVEL: 'warn', CONVEYOR_SHUTDOWN_GRACE_MS: '2000', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
    });
    this.child = child;
    await waitFor('the API to be ready', async () => (await fetch(`${this.url}/ready`)).ok, child, 60_000);
  }

  async stop(): Promise<void> {
    await this.child?.stop(10_000);
    this.child = undefined;
  }

  output(): string {
    return this.child?.output() ?? '';
  }
}

/** A machine agent with the simulation connector: it registers, installs, and runs its worker under its own PM2. */
export class Machine {
  private constructor(
    readonly id: string,
    private readonly child: Child,
    private readonly installDir: string,
  ) {}

  static async start(id: string, redisUrl: string, extra: NodeJS.ProcessEnv = {}): Promise<Machine> {
    const installDir = await mkdtemp(join(tmpdir(), 'conveyor-e2e-machine-'));
    await mkdir(installDir, { recursive: true });
    const child = Child.start('machine', process.execPath, [join(ROOT, 'apps/machine/bin/conveyor-machine.js'), 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        WORKER_CONNECTORS: 'simulation',
        MACHINE_ID: id,
        MACHINE_INSTALL_DIR: installDir,
        MACHINE_HEARTBEAT_MS: '1000',
        MACHINE_DRAIN_GRACE_MS: '3000',
        LOG_LEVEL: 'warn',
        ...extra,
      },
    });
    return new Machine(id, child, installDir);
  }

  output(): string {
    return this.child.output();
  }

  /** SIGTERM drains the workers and stops PM2; a daemon left by a failed drain is stopped by its pid file. */
  async stop(): Promise<void> {
    await this.child.stop(30_000);
    const pid = Number(await readFile(join(this.installDir, 'pm2', 'pm2.pid'), 'utf8').catch(() => ''));
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone: the drain stopped it.
      }
    }
    await rm(this.installDir, { recursive: true, force: true });
  }
}

/** A worker process started on its own, without a machine agent (apps/machine/src/worker/main.ts). */
export function startWorker(workerId: string, machineId: string, redisUrl: string): Child {
  return Child.start('worker', process.execPath, ['--import', 'tsx', 'src/worker/main.ts'], {
    cwd: join(ROOT, 'apps/machine'),
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      WORKER_ID: workerId,
      MACHINE_ID: machineId,
      WORKER_SERVICES: 'simulation',
      WORKER_CONCURRENCY: '2',
      WORKER_HEARTBEAT_MS: '1000',
      WORKER_DRAIN_GRACE_MS: '2000',
      LOG_LEVEL: 'warn',
    },
  });
}

/** `pnpm conveyor keys create` against the given Redis; returns the new key. */
export function createKey(redisUrl: string, tenant: string, admin: boolean): string {
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'create', '--tenant', tenant, ...(admin ? ['--admin'] : [])], {
    cwd: join(ROOT, 'apps/api'),
    env: { ...process.env, REDIS_URL: redisUrl },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`keys create failed: ${out.stderr}`);
  return (JSON.parse(out.stdout) as { key: string }).key;
}

/** `vite preview` of a build, forwarding API paths to `apiUrl` (how the monitor is served next to a server-mode API). */
export async function previewMonitor(outDir: string, apiUrl: string): Promise<{ url: string; close: () => Promise<void> }> {
  const port = await freePort();
  const server: PreviewServer = await preview({
    root: MONITOR_DIR,
    configFile: false,
    logLevel: 'warn',
    build: { outDir },
    preview: { port, strictPort: true, host: '127.0.0.1', proxy: apiProxy(apiUrl) },
  });
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}
