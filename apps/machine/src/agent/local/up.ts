import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedisClient, FleetRegistry, Keys, packageDir, type InstallerState, type MachineState } from '@conveyor/core';
import { ensureEmbeddedRedis, isAlive, livePid, releaseEmbeddedRedis, writePid, type LocalPaths } from '@conveyor/local-stack';
import { loadAgentConfig } from '../env.ts';
import { localEnv, machineLocalPaths } from './paths.ts';

export const AGENT_BIN = join(packageDir(import.meta.url), 'bin/conveyor-machine.js');

/** What the agent prints to stderr (agent.log here) as its last words when it cannot start; see main.ts. */
export const AGENT_EXIT_PREFIX = 'conveyor-machine: ';

const say = (line: string) => process.stdout.write(`${line}\n`);

function describe(m: MachineState): string {
  const installers = m.installers.map((i) => `${i.connector}=${i.status}${i.progress ? ` ${i.progress.percent}%${i.progress.message ? ` ${i.progress.message}` : ''}` : ''}`);
  const gpus = (m.gpuServices ?? []).map((g) => `gpu${g.gpu} ${g.service}=${g.status}`);
  const details = [...installers, ...gpus].join(', ');
  return `${m.status}${details ? ` (${details})` : ''}`;
}

/** The agent's own explanation of why it stopped: everything from its last exit message on. */
async function agentExitMessage(logFile: string, fromByte: number): Promise<string | undefined> {
  const text = (await readFile(logFile, 'utf8').catch(() => '')).slice(fromByte);
  const at = text.lastIndexOf(AGENT_EXIT_PREFIX);
  return at < 0 ? undefined : text.slice(at + AGENT_EXIT_PREFIX.length).trim();
}

/**
 * Says why the machine did not come up, where the user is looking: each failed installer's own
 * message (they name the variable or the host and the fix), the agent's exit message, then what
 * happened to the embedded Redis (stopped if this command started it and nothing else uses it).
 */
async function reportFailure(paths: LocalPaths, logFile: string, logStart: number, installers: ReadonlyMap<string, InstallerState>, embedded: boolean): Promise<void> {
  say('machine:local:up failed: conveyor-machine exited before it was ready');
  for (const i of installers.values()) if (i.status === 'failed') say(`  ${i.connector}: ${i.error ?? 'installer failed'}`);
  const exit = await agentExitMessage(logFile, logStart);
  if (exit) for (const line of exit.split('\n')) say(`  ${line}`);
  say(`fix the above (settings may go in ${join(paths.root, '.env')}), then run \`pnpm machine:local:up\` again; full log: ${logFile}`);
  if (embedded) say(await releaseEmbeddedRedis(paths, 'machine'));
}

/**
 * `machine:local:up`: the agent on this host, detached, with its apps under its private PM2, on
 * the checkout's embedded Redis (the one scripts/start.sh uses, started when none runs) when
 * REDIS_URL is unset. Returns once the machine is ready (or failed).
 */
export async function localUp(root: string, givenEnv: NodeJS.ProcessEnv, timeoutMs = 15 * 60_000): Promise<number> {
  const paths = machineLocalPaths(root, givenEnv);
  const env = localEnv(paths, givenEnv);
  const config = loadAgentConfig(env);
  await mkdir(paths.logDir, { recursive: true });
  const running = await livePid(paths.agentPidFile, 'conveyor-machine');
  if (running) {
    say(`conveyor-machine is already running (pid ${running}); stop it with: pnpm machine:local:down`);
    return 0;
  }
  let redisUrl = config.REDIS_URL;
  const embedded = !redisUrl;
  if (!redisUrl) {
    const redis = await ensureEmbeddedRedis(paths, 'machine');
    redisUrl = redis.url;
    say(`${redis.started ? 'started' : 'joining'} the embedded Redis at ${redisUrl} (URL in ${paths.redisUrlFile})`);
  }
  const logFile = join(paths.logDir, 'agent.log');
  const logStart = (await readFile(logFile).catch(() => Buffer.alloc(0))).length;
  // A registration from before this start (an agent that was killed) must not pass for this one.
  const spawnedAt = Date.now();
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [AGENT_BIN, 'start'], {
    cwd: root,
    env: { ...env, REDIS_URL: redisUrl, MACHINE_INSTALL_DIR: config.MACHINE_INSTALL_DIR },
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  if (!child.pid) throw new Error('could not start conveyor-machine');
  await writePid(paths.agentPidFile, child.pid);
  say(`conveyor-machine started (pid ${child.pid}, machine ${config.MACHINE_ID}); log: ${logFile}`);

  const redis = createRedisClient(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const fleet = new FleetRegistry(redis, new Keys(config.CONVEYOR_NAMESPACE));
  const installers = new Map<string, InstallerState>();
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    while (Date.now() < deadline) {
      const machine = (await fleet.machines()).find((m) => m.machineId === config.MACHINE_ID && m.startedAt >= spawnedAt);
      for (const i of machine?.installers ?? []) installers.set(i.connector, i);
      if (!isAlive(child.pid)) {
        await reportFailure(paths, logFile, logStart, installers, embedded);
        return 1;
      }
      const line = machine ? describe(machine) : 'starting';
      if (line !== last) say(`  ${line}`);
      last = line;
      if (machine?.status === 'ready') {
        const failed = machine.installers.filter((i) => i.status === 'failed');
        for (const f of failed) say(`  ${f.connector} is not running: ${f.error ?? 'installer failed'}`);
        say(`machine ${machine.machineId} is ready: connectors ${machine.connectors.join(', ')}; workers ${machine.workers.join(', ')}`);
        say('PM2 apps: pnpm machine:pm2 list    status: pnpm machine:status    stop: pnpm machine:local:down');
        return 0;
      }
      await sleep(500);
    }
    say(`conveyor-machine is not ready after ${Math.round(timeoutMs / 1000)} s; it keeps starting in the background (log: ${logFile})`);
    return 1;
  } finally {
    redis.disconnect();
  }
}
