import { loadLocalEnvironment, logStream } from '@conveyor/local-stack';
import { pino } from 'pino';
import { ConfigError } from '../agent/errors.ts';
import { loadWorkerConfig } from './env.ts';
import { WorkerProcess } from './worker.ts';

function exitWithConfigError(err: unknown): never {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`conveyor worker: ${err.message}\n`);
  process.exit(1);
}

/**
 * Entry point of one worker process (a PM2 app, run with tsx). Exits 0 after a clean drain and 1
 * when it cannot start or the drain fails. Further signals during a drain do not cut it short: a
 * supervisor that will not wait escalates to SIGKILL, and leases then return the jobs.
 */
async function main(): Promise<void> {
  let config;
  try {
    loadLocalEnvironment();
    config = loadWorkerConfig();
  } catch (err) {
    exitWithConfigError(err);
  }
  const logger = pino({ level: config.LOG_LEVEL, base: { workerId: config.WORKER_ID, machineId: config.MACHINE_ID, pid: process.pid } }, logStream(config.CONVEYOR_MODE, { sync: true }));
  let worker: WorkerProcess | undefined;
  let stopRequested = false;
  const drain = (w: WorkerProcess) =>
    w.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'drain failed');
        process.exit(1);
      },
    );
  // Registered before start, so a signal during start-up still ends in a drain, not a hard kill.
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutdown requested');
    stopRequested = true;
    if (worker) void drain(worker);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    worker = await WorkerProcess.start(config, logger);
  } catch (err) {
    if (err instanceof ConfigError) exitWithConfigError(err);
    logger.fatal({ err }, 'worker could not start');
    process.exit(1);
  }
  if (stopRequested) {
    await drain(worker);
    return;
  }
  // PM2 `wait_ready`: the app counts as online only once it is claiming.
  process.send?.('ready');
}

await main();
