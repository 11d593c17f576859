import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Broker } from '@conveyor/core';
import { eventually } from '../helpers.ts';

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
/** The machine's worker entry point, run exactly as PM2 runs it (the connectors are the real ones). */
const WORKER_MAIN = fileURLToPath(new URL('../../../machine/src/worker/main.ts', import.meta.url));

export interface MachineWorker {
  readonly workerId: string;
  readonly stderr: () => string;
  /** SIGTERM (the worker drains), then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts one real worker process (apps/machine) with only the given environment, and waits until
 * it has registered in the fleet, i.e. is claiming.
 */
export async function startMachineWorker(broker: Broker, env: Record<string, string>): Promise<MachineWorker> {
  const workerId = env.WORKER_ID ?? `frontdoor-worker-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const child: ChildProcess = spawn(process.execPath, [tsxCli, WORKER_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      CONVEYOR_NAMESPACE: broker.keys.namespace,
      MACHINE_ID: 'frontdoor-machine',
      WORKER_ID: workerId,
      WORKER_HEARTBEAT_MS: '200',
      WORKER_DRAIN_GRACE_MS: '2000',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await eventually(
      `worker ${workerId} to register`,
      async () => {
        if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${stderr}`);
        const state = (await broker.fleet.workers()).find((w) => w.workerId === workerId);
        return state && state.status !== 'starting' ? state : undefined;
      },
      30_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    workerId,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
