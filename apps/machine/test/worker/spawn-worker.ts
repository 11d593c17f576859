import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Broker, WorkerState } from '@conveyor/core';
import { vi } from 'vitest';

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const workerMain = fileURLToPath(new URL('../../src/worker/main.ts', import.meta.url));

export interface SpawnedWorker {
  readonly child: ChildProcess;
  /** Parsed pino lines written so far. */
  readonly logs: Record<string, unknown>[];
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the worker entry point exactly as PM2 does (tsx main.ts), with only the given environment. */
export function spawnWorker(env: Record<string, string>): SpawnedWorker {
  const child = spawn(process.execPath, [tsxCli, workerMain], {
    // Server mode: JSON log lines, which the tests parse (local mode prints them for a person).
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CONVEYOR_MODE: 'server', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, logs, stderr: () => stderr, exited };
}

/** Waits until the worker's published fleet state matches. */
export async function fleetState(broker: Broker, workerId: string, match: (s: WorkerState) => boolean, timeout = 20_000): Promise<WorkerState> {
  return await vi.waitFor(
    async () => {
      const state = (await broker.fleet.workers()).find((w) => w.workerId === workerId);
      if (!state || !match(state)) throw new Error(`worker ${workerId} is ${JSON.stringify(state)}`);
      return state;
    },
    { timeout, interval: 50 },
  );
}
