import { join } from 'node:path';
import { livePid, releaseEmbeddedRedis, removePid, stopProcess } from '@conveyor/local-stack';
import { loadAgentConfig } from '../env.ts';
import { Pm2Controller } from '../pm2.ts';
import { localEnv, machineLocalPaths } from './paths.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `machine:local:down`: SIGTERM to the agent (it drains its workers and stops PM2), then the
 * embedded Redis if `machine:local:up` started it and nothing else uses it. An agent that does not
 * finish in time is killed and its PM2 daemon stopped, so nothing is left behind.
 */
export async function localDown(root: string, env: NodeJS.ProcessEnv): Promise<number> {
  const paths = machineLocalPaths(root, env);
  // Stopping needs only the directories and the grace period, not a valid connector list.
  const config = loadAgentConfig({ ...localEnv(paths, env), WORKER_CONNECTORS: 'simulation' });
  const agent = await livePid(paths.agentPidFile, 'conveyor-machine');
  if (agent) {
    say(`draining conveyor-machine (pid ${agent}; up to ${Math.round(config.MACHINE_DRAIN_GRACE_MS / 1000)} s for running jobs)`);
    const stopped = await stopProcess(agent, 'SIGTERM', config.MACHINE_DRAIN_GRACE_MS + 60_000);
    if (stopped) {
      say('conveyor-machine drained and stopped');
    } else {
      say('conveyor-machine did not stop in time; killing it and its PM2 apps');
      await stopProcess(agent, 'SIGKILL', 5000);
    }
  } else {
    say('conveyor-machine is not running');
  }
  await removePid(paths.agentPidFile);
  if (await livePid(join(config.pm2Home, 'pm2.pid'), 'PM2')) {
    const pm2 = await Pm2Controller.connect(config.pm2Home);
    await pm2.kill();
    say('stopped the leftover PM2 daemon');
  }
  if (!env.REDIS_URL) say(await releaseEmbeddedRedis(paths, 'machine'));
  return 0;
}
