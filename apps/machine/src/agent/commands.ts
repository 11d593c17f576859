import { createRedisClient, FleetRegistry, Keys } from '@conveyor/core';
import type { Logger } from 'pino';
import { MachineAgent } from './agent.ts';
import { requireRedisUrl, type AgentConfig } from './env.ts';
import { MachineStartError } from './errors.ts';
import { detect, install, writeMachineEcosystem } from './prepare.ts';

/** `start`: run until SIGTERM/SIGINT, then drain. A signal while installing stops the installers. */
export async function startCommand(config: AgentConfig, logger: Logger): Promise<number> {
  const stop = new AbortController();
  const stopRequested = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal, already: stop.signal.aborted }, 'stop requested');
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let agent: MachineAgent;
  try {
    agent = await MachineAgent.start({ config, logger, signal: stop.signal });
  } catch (err) {
    if (err instanceof MachineStartError && err.code === 'MACHINE_STOPPED') return 0;
    throw err;
  }
  logger.info({ apps: agent.ecosystem.apps.map((a) => a.name), connectors: agent.state.connectors }, 'machine ready');
  await stopRequested;
  await agent.drain();
  return 0;
}

/** `install`: only the installers, e.g. baked into an image; needs no Redis. */
export async function installCommand(config: AgentConfig, logger: Logger): Promise<number> {
  const hardware = await detect({ config, logger });
  const installed = await install({ config, logger }, hardware, () => undefined);
  return installed.results.failed.size === 0 ? 0 : 1;
}

/** `ecosystem`: install and write ecosystem.machine.cjs without starting anything; prints its path. */
export async function ecosystemCommand(config: AgentConfig, logger: Logger): Promise<number> {
  const options = { config, logger };
  const hardware = await detect(options);
  const installed = await install(options, hardware, () => undefined);
  const { file } = await writeMachineEcosystem(options, hardware, installed, requireRedisUrl(config));
  process.stdout.write(`${file}\n`);
  return 0;
}

/** `status`: this machine's registration as JSON; exit 3 when it is not registered. */
export async function statusCommand(config: AgentConfig): Promise<number> {
  const redis = createRedisClient(requireRedisUrl(config), { maxRetriesPerRequest: 1 });
  try {
    const fleet = new FleetRegistry(redis, new Keys(config.CONVEYOR_NAMESPACE));
    const machine = (await fleet.machines()).find((m) => m.machineId === config.MACHINE_ID);
    process.stdout.write(`${JSON.stringify(machine ?? { machineId: config.MACHINE_ID, status: 'unregistered' })}\n`);
    return machine ? 0 : 3;
  } finally {
    redis.disconnect();
  }
}
