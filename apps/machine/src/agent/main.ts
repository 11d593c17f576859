import { ConveyorError } from '@conveyor/core';
import { ecosystemCommand, installCommand, startCommand, statusCommand } from './commands.ts';
import { loadAgentConfig } from './env.ts';
import { ConfigError } from './errors.ts';
import { localDown } from './local/down.ts';
import { localUp } from './local/up.ts';
import { createAgentLogger } from './logger.ts';

const USAGE = `usage: conveyor-machine [command]
  start      (default) install, start the PM2 ecosystem, register; drain on SIGTERM
  install    run the connectors' installers only (no Redis needed)
  ecosystem  install and write ecosystem.machine.cjs without starting it
  status     print this machine's registration as JSON
  local-up   start the agent in the background (embedded Redis when REDIS_URL is unset)
  local-down drain and stop the background agent and the embedded Redis
Configuration is read from the environment; see apps/machine/src/agent/env.ts.`;

async function run(command: string): Promise<number> {
  switch (command) {
    case 'local-up':
      return await localUp(process.cwd(), process.env);
    case 'local-down':
      return await localDown(process.cwd(), process.env);
    case 'start':
    case 'install':
    case 'ecosystem':
    case 'status': {
      const config = loadAgentConfig();
      if (command === 'status') return await statusCommand(config);
      const logger = createAgentLogger(config.LOG_LEVEL, config.MACHINE_ID);
      try {
        if (command === 'install') return await installCommand(config, logger);
        if (command === 'ecosystem') return await ecosystemCommand(config, logger);
        return await startCommand(config, logger);
      } catch (err) {
        logger.fatal({ err }, 'machine failed');
        throw err;
      }
    }
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  let code: number;
  try {
    code = await run(argv[0] ?? 'start');
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : err instanceof ConveyorError ? `${err.code}: ${err.message}` : String((err as Error).stack ?? err);
    process.stderr.write(`conveyor-machine: ${message}\n`);
    code = err instanceof ConfigError ? 2 : 1;
  }
  process.exit(code);
}
