import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ConveyorError } from '@conveyor/core';
import { CHECKOUT_ROOT, embeddedRedisUrl, loadLocalEnvironment } from '@conveyor/local-stack';
import { ecosystemCommand, installCommand, startCommand, statusCommand } from './commands.ts';
import { loadAgentConfig, type AgentConfig } from './env.ts';
import { ConfigError } from './errors.ts';
import { localDown } from './local/down.ts';
import { localEnv, machineLocalPaths } from './local/paths.ts';
import { AGENT_EXIT_PREFIX, localUp } from './local/up.ts';
import { createAgentLogger } from './logger.ts';

const USAGE = `usage: conveyor-machine [command]
  start      (default) install, start the PM2 ecosystem, register; drain on SIGTERM
  install    run the connectors' installers only (no Redis needed)
  ecosystem  install and write ecosystem.machine.cjs without starting it
  status     print this machine's registration as JSON (pnpm machine:status)
  pm2 <args> run the pm2 CLI on this machine's own PM2 (pnpm machine:pm2 list, pnpm machine:pm2 logs)
  local-up   start the agent in the background (on the checkout's embedded Redis when REDIS_URL is unset)
  local-down drain and stop the background agent, and the embedded Redis if it started it
Configuration is read from the environment (and in local mode from .env / .env.local at the
checkout root); see apps/machine/src/agent/env.ts.`;

const PM2_CLI = join(createRequire(import.meta.url).resolve('pm2/package.json'), '..', 'bin', 'pm2');

/**
 * The configuration of commands that look at a machine rather than run one (status, pm2): its
 * connector list does not matter, and in local mode its Redis is the checkout's embedded one.
 */
async function inspectingConfig(local: boolean): Promise<AgentConfig> {
  const env = local ? localEnv(machineLocalPaths(CHECKOUT_ROOT, process.env), process.env) : process.env;
  const config = loadAgentConfig({ WORKER_CONNECTORS: 'simulation', ...env });
  if (config.REDIS_URL || !local) return config;
  return { ...config, REDIS_URL: await embeddedRedisUrl(machineLocalPaths(CHECKOUT_ROOT, process.env)) };
}

/** `pm2 <args>`: the pm2 CLI bound to this machine's PM2_HOME, so `list` shows its workers. */
async function pm2Command(config: AgentConfig, args: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [PM2_CLI, ...args], { stdio: 'inherit', env: { ...process.env, PM2_HOME: config.pm2Home } });
  return await new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

async function run(command: string, args: readonly string[], local: boolean): Promise<number> {
  switch (command) {
    case 'local-up':
      return await localUp(CHECKOUT_ROOT, process.env);
    case 'local-down':
      return await localDown(CHECKOUT_ROOT, process.env);
    case 'status':
      return await statusCommand(await inspectingConfig(local));
    case 'pm2':
      return await pm2Command(await inspectingConfig(local), args);
    case 'start':
    case 'install':
    case 'ecosystem': {
      const config = loadAgentConfig();
      const logger = createAgentLogger(config);
      try {
        if (command === 'install') return await installCommand(config, logger);
        if (command === 'ecosystem') return await ecosystemCommand(config, logger);
        return await startCommand(config, logger);
      } catch (err) {
        // An explained failure (a ConveyorError with its code) needs its message, not a stack trace.
        if (err instanceof ConveyorError) logger.fatal({ code: err.code, error: err.message }, 'machine failed');
        else logger.fatal({ err }, 'machine failed');
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
    const local = loadLocalEnvironment() === 'local';
    code = await run(argv[0] ?? 'start', argv.slice(1), local);
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : err instanceof ConveyorError ? `${err.code}: ${err.message}` : String((err as Error).stack ?? err);
    process.stderr.write(`${AGENT_EXIT_PREFIX}${message}\n`);
    code = err instanceof ConfigError ? 2 : 1;
  }
  process.exit(code);
}
