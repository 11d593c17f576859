import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createRedisClient, FleetRegistry, Keys, type MachineState } from '@conveyor/core';
import { loadAgentConfig } from '../env.ts';
import { ensureEmbeddedRedis, localEnv, localPaths } from './embedded-redis.ts';
import { isAlive, livePid, writePid } from '../pidfile.ts';

export const AGENT_BIN = fileURLToPath(new URL('../../../bin/conveyor-machine.js', import.meta.url));

const say = (line: string) => process.stdout.write(`${line}\n`);

function describe(m: MachineState): string {
  const installers = m.installers.map((i) => `${i.connector}=${i.status}${i.progress ? ` ${i.progress.percent}%` : ''}`).join(' ');
  return `${m.status}${installers ? ` (${installers})` : ''}`;
}

/**
 * `machine:local:up`: the agent on this host, detached, with its apps under its private PM2; an
 * embedded Redis when REDIS_URL is unset. Returns once the machine is ready (or failed).
 */
export async function localUp(root: string, givenEnv: NodeJS.ProcessEnv, timeoutMs = 15 * 60_000): Promise<number> {
  const paths = localPaths(root);
  const env = localEnv(paths, givenEnv);
  const config = loadAgentConfig(env);
  await mkdir(paths.logDir, { recursive: true });
  const running = await livePid(paths.agentPidFile, 'conveyor-machine');
  if (running) {
    say(`conveyor-machine is already running (pid ${running}); stop it with: pnpm machine:local:down`);
    return 0;
  }
  let redisUrl = config.REDIS_URL;
  if (!redisUrl) {
    const redis = await ensureEmbeddedRedis(paths, config.MACHINE_LOCAL_REDIS_PORT);
    redisUrl = redis.url;
    say(`${redis.started ? 'started' : 'using'} embedded Redis at ${redisUrl} (URL in ${paths.redisUrlFile})`);
  }
  const logFile = join(paths.logDir, 'agent.log');
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
  const fleet = new FleetRegistry(redis, new Keys(config.CONVEYOR_NAMESPACE));
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    while (Date.now() < deadline) {
      if (!isAlive(child.pid)) {
        say(`conveyor-machine exited before it was ready; see ${logFile}`);
        return 1;
      }
      const machine = (await fleet.machines()).find((m) => m.machineId === config.MACHINE_ID && m.startedAt >= spawnedAt);
      const line = machine ? describe(machine) : 'starting';
      if (line !== last) say(`  ${line}`);
      last = line;
      if (machine?.status === 'ready') {
        const failed = machine.installers.filter((i) => i.status === 'failed');
        for (const f of failed) say(`  ${f.connector} is not running: ${f.error ?? 'installer failed'}`);
        say(`machine ${machine.machineId} is ready: connectors ${machine.connectors.join(', ')}; workers ${machine.workers.join(', ')}`);
        say(`PM2 apps: PM2_HOME=${config.pm2Home} pnpm --filter @conveyor/machine exec pm2 list`);
        say('stop: pnpm machine:local:down');
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
