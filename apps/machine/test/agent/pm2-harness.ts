import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageDir } from '@conveyor/core';
import { AGENT_BIN } from '../../src/agent/local/up.ts';
import { isAlive } from '@conveyor/local-stack';

const PM2_CLI = join(createRequire(import.meta.url).resolve('pm2/package.json'), '..', 'bin', 'pm2');

export interface PmApp {
  name: string;
  pid: number;
  status: string;
  restarts: number;
}

/** What the agent's private PM2 runs, read with PM2's own CLI (`jlist`) against its PM2_HOME. */
export function pm2Apps(pm2Home: string): PmApp[] {
  const out = spawnSync(process.execPath, [PM2_CLI, 'jlist'], { env: { ...process.env, PM2_HOME: pm2Home }, encoding: 'utf8' });
  const list = JSON.parse(out.stdout.slice(out.stdout.indexOf('['))) as {
    name: string;
    pid: number;
    pm2_env: { status: string; restart_time: number };
  }[];
  return list.map((p) => ({ name: p.name, pid: p.pid, status: p.pm2_env.status, restarts: p.pm2_env.restart_time }));
}

export function pm2DaemonPid(pm2Home: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8'));
    return isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Test teardown: stops a PM2 daemon left by a failed test (only the one of this PM2_HOME). */
export function killPm2(pm2Home: string): void {
  if (pm2DaemonPid(pm2Home) === undefined) return;
  spawnSync(process.execPath, [PM2_CLI, 'kill'], { env: { ...process.env, PM2_HOME: pm2Home }, stdio: 'ignore' });
}

/** The compiled agent production starts (`pnpm --filter @conveyor/machine build` writes it). */
export const COMPILED_AGENT = join(packageDir(import.meta.url), 'dist', 'agent.js');

/** Starts the agent from its source through tsx (the bin), or `compiled` from the build. */
export function startAgent(env: NodeJS.ProcessEnv, logFile: string, entry: 'source' | 'compiled' = 'source'): ChildProcess {
  const log = openSync(logFile, 'a');
  return spawn(process.execPath, [entry === 'compiled' ? COMPILED_AGENT : AGENT_BIN, 'start'], { env, stdio: ['ignore', log, log] });
}

export async function exited(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const code = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return await Promise.race([code, sleep(timeoutMs).then(() => Promise.reject(new Error(`agent did not exit within ${timeoutMs} ms`)))]);
}

/** Test teardown: SIGTERM (SIGKILL when it does not exit in 30 s), then the PM2 daemon it may have left. */
export async function stopAgent(agent: ChildProcess | undefined, pm2Home: string): Promise<void> {
  if (agent && agent.exitCode === null) {
    agent.kill('SIGTERM');
    await exited(agent, 30_000).catch(() => agent.kill('SIGKILL'));
  }
  killPm2(pm2Home);
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
