import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isCompiled, packageDir } from '@conveyor/core';
import type { AgentConfig } from './env.ts';
import type { Placement } from './plan.ts';

const require = createRequire(import.meta.url);

/** The subset of PM2's app options this agent sets. */
export interface Pm2App {
  name: string;
  script: string;
  interpreter: string;
  node_args?: string[];
  args?: string[];
  cwd: string;
  env: Record<string, string>;
  autorestart: boolean;
  min_uptime: number;
  max_restarts: number;
  restart_delay: number;
  kill_signal: 'SIGTERM' | 'SIGINT';
  kill_timeout: number;
  /** PM2 signals the whole process tree unless false. */
  treekill?: boolean;
  wait_ready?: boolean;
  listen_timeout?: number;
  /** PM2 wraps a Node app in @pm2/io (its metrics agent) unless false. */
  pmx?: boolean;
  /** PM2 reads the git metadata of the app's directory at every start unless false. */
  vizion?: boolean;
  out_file: string;
  error_file: string;
  merge_logs: boolean;
}

export interface Ecosystem {
  apps: Pm2App[];
}

export interface ComfyUiInstall {
  /** The ComfyUI checkout (holds main.py). */
  readonly dir: string;
  /** The virtual environment's python. */
  readonly python: string;
}

export interface EcosystemInput {
  readonly config: AgentConfig;
  readonly redisUrl: string;
  readonly placement: Placement;
  readonly comfyui?: ComfyUiInstall;
  /** Models installed on this machine, advertised by the GPU workers. */
  readonly models: readonly string[];
  /** Settings installers discovered for the API worker (CHROMIUM_PATH). */
  readonly apiWorkerEnv: Readonly<Record<string, string>>;
  /** Name of the API/CPU worker app; a connector added at runtime gets its own (`worker-<name>`). */
  readonly apiWorkerName?: string;
}

const machineDir = packageDir(import.meta.url);
/**
 * Workers run the way the agent runs: from the compiled build when the agent does (production:
 * containers, `node dist/agent.js`), else their TypeScript through tsx's loader inside PM2's own
 * node container (which keeps IPC for wait_ready).
 */
const COMPILED = isCompiled(import.meta.url);
export const WORKER_SCRIPT = join(machineDir, COMPILED ? 'dist/worker.js' : 'src/worker/main.ts');
const WORKER_NODE_ARGS = COMPILED ? [] : ['--import', pathToFileURL(require.resolve('tsx')).href];

export const comfyAppName = (gpu: number) => `comfyui-gpu${gpu}`;
export const gpuWorkerName = (gpu: number) => `worker-gpu${gpu}`;
export const API_WORKER_NAME = 'worker-api';

export function workerId(machineId: string, appName: string): string {
  return `${machineId}:${appName}`;
}

function logs(config: AgentConfig, name: string) {
  return { out_file: join(config.logDir, `${name}.out.log`), error_file: join(config.logDir, `${name}.err.log`), merge_logs: true };
}

function workerApp(input: EcosystemInput, name: string, env: Record<string, string>): Pm2App {
  const { config } = input;
  const base: Record<string, string> = {
    REDIS_URL: input.redisUrl,
    CONVEYOR_NAMESPACE: config.CONVEYOR_NAMESPACE,
    MACHINE_ID: config.MACHINE_ID,
    WORKER_ID: workerId(config.MACHINE_ID, name),
    ARTIFACT_DIR: config.artifactDir,
    LOG_LEVEL: config.LOG_LEVEL,
    CONVEYOR_MODE: config.CONVEYOR_MODE,
    WORKER_DRAIN_GRACE_MS: String(config.MACHINE_DRAIN_GRACE_MS),
  };
  if (config.MACHINE_POOL) base.MACHINE_POOL = config.MACHINE_POOL;
  if (config.LEASE_MS) base.LEASE_MS = String(config.LEASE_MS);
  return {
    name,
    script: WORKER_SCRIPT,
    interpreter: process.execPath,
    node_args: WORKER_NODE_ARGS,
    cwd: machineDir,
    env: { ...base, ...env },
    autorestart: true,
    min_uptime: 5000,
    max_restarts: 50,
    restart_delay: 1000,
    // Workers drain on SIGTERM; PM2 waits the drain grace plus start-up slack before SIGKILL.
    kill_signal: 'SIGTERM',
    kill_timeout: config.MACHINE_DRAIN_GRACE_MS + 10_000,
    // Only the worker gets SIGTERM: PM2's default tree kill would also stop the Chromium a running
    // screenshot uses, failing the job the drain is waiting for. The worker closes its own children
    // (and a Chromium on a closed DevTools pipe exits by itself if the worker is killed).
    treekill: false,
    wait_ready: true,
    listen_timeout: 60_000,
    // @pm2/io is PM2.io's metrics agent, which this machine does not use: loading it first and
    // hooking every later require() (require-in-the-middle) made a worker's start several times slower.
    pmx: false,
    // Git metadata shown by `pm2 describe`: PM2 otherwise walks up from the app's directory at every start.
    vizion: false,
    ...logs(config, name),
  };
}

/** One ComfyUI + one worker per GPU that runs GPU connectors, and one worker for every API/CPU connector. */
export function buildEcosystem(input: EcosystemInput): Ecosystem {
  const { config, placement, comfyui } = input;
  const apps: Pm2App[] = [];
  for (const { gpu, services } of placement.gpus) {
    const env: Record<string, string> = {
      WORKER_SERVICES: services.join(','),
      WORKER_CONCURRENCY: String(config.GPU_WORKER_CONCURRENCY),
      GPU_INDEX: String(gpu.index),
      GPU_MEMORY_MB: String(gpu.memoryMb),
      GPU_NAME: gpu.name,
      WORKER_MODELS: input.models.join(','),
    };
    if (services.includes('comfyui') && comfyui) {
      const port = config.COMFYUI_BASE_PORT + gpu.index;
      const name = comfyAppName(gpu.index);
      apps.push({
        name,
        script: join(comfyui.dir, 'main.py'),
        interpreter: comfyui.python,
        args: ['--listen', '127.0.0.1', '--port', String(port)],
        cwd: comfyui.dir,
        env: { CUDA_VISIBLE_DEVICES: String(gpu.index), PYTHONUNBUFFERED: '1' },
        autorestart: true,
        min_uptime: 10_000,
        max_restarts: 20,
        restart_delay: 2000,
        kill_signal: 'SIGINT',
        kill_timeout: 15_000,
        vizion: false,
        ...logs(config, name),
      });
      env.COMFYUI_URL = `http://127.0.0.1:${port}`;
    }
    apps.push(workerApp(input, gpuWorkerName(gpu.index), env));
  }
  if (placement.api.services.length > 0) {
    apps.push(
      workerApp(input, input.apiWorkerName ?? API_WORKER_NAME, {
        WORKER_SERVICES: placement.api.services.join(','),
        WORKER_CONCURRENCY: String(placement.api.concurrency),
        WORKER_SERVICE_CONCURRENCY: Object.entries(placement.api.serviceConcurrency)
          .map(([name, n]) => `${name}=${n}`)
          .join(','),
        ...input.apiWorkerEnv,
      }),
    );
  }
  return { apps };
}

/** Writes the ecosystem as a CommonJS module PM2 (or a person) can read; 0600 since it holds REDIS_URL. */
export async function writeEcosystem(file: string, ecosystem: Ecosystem): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const body =
    '// Generated by conveyor-machine at every start and started through PM2\'s API; edits are overwritten.\n' +
    `// Inspect the running apps with: PM2_HOME=${join(dirname(file), 'pm2')} pm2 list\n` +
    `module.exports = ${JSON.stringify(ecosystem, null, 2)};\n`;
  await writeFile(file, body, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** Reads an ecosystem file back, so what PM2 starts is exactly what is on disk. */
export function readEcosystem(file: string): Ecosystem {
  delete require.cache[require.resolve(file)];
  return require(file) as Ecosystem;
}

export function ecosystemPath(config: AgentConfig): string {
  return join(config.MACHINE_INSTALL_DIR, 'ecosystem.machine.cjs');
}
