import type { InstallerState } from '@conveyor/core';
import type { Logger } from 'pino';
import type { ConnectorName } from './catalog.ts';
import { buildEcosystem, ecosystemPath, readEcosystem, writeEcosystem, type Ecosystem } from './ecosystem.ts';
import type { AgentConfig } from './env.ts';
import { InstallerError, MachineStartError } from './errors.ts';
import { detectHardware, type Hardware } from './hardware.ts';
import { runInstallers, type InstallResults } from './installers/index.ts';
import { placeConnectors } from './plan.ts';
import { InstallProgressBars } from './progress-bar.ts';

export interface PrepareOptions {
  readonly config: AgentConfig;
  readonly logger: Logger;
  /** Aborted when the agent is told to stop while still installing. */
  readonly signal?: AbortSignal;
  /** The environment workers inherit, where API connectors find their keys; defaults to this process's. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export async function detect({ config, logger }: PrepareOptions): Promise<Hardware> {
  const hardware = await detectHardware({
    gpuCount: config.MACHINE_GPU_COUNT,
    simulatedGpuMemoryMb: config.MACHINE_GPU_MEMORY_MB,
    diskPath: config.MACHINE_INSTALL_DIR,
    onWarning: (message) => logger.warn({ message }, 'hardware detection'),
  });
  logger.info({ hardware }, 'hardware detected');
  return hardware;
}

/** Each failed installer's own message (it names the connector and the fix), one per line. */
function failureLines(results: InstallResults): string {
  return [...results.failed.values()].map((err) => `\n  ${err.message}`).join('');
}

export interface Installed {
  readonly results: InstallResults;
  /** Connectors whose installer succeeded: the ones this machine runs. */
  readonly accepted: ConnectorName[];
}

/**
 * Step 3: every connector's installer, with progress on the terminal and to `onState`. Connectors
 * that cannot run here (a GPU connector without GPUs) fail without installing; any failure stops
 * the machine only under MACHINE_STRICT=1.
 */
export async function install(options: PrepareOptions, hardware: Hardware, onState: (state: InstallerState) => void): Promise<Installed> {
  const { config, logger } = options;
  const placement = placeConnectors(config.WORKER_CONNECTORS, hardware.gpus, { apiConcurrency: config.API_WORKER_CONCURRENCY });
  const bars = new InstallProgressBars();
  const report = (state: InstallerState) => {
    bars.update(state);
    onState(state);
  };
  const skip = new Set(placement.unplaceable.map((u) => u.connector));
  const runnable = config.WORKER_CONNECTORS.map((r) => r.name).filter((n) => !skip.has(n));
  const results = await runInstallers(runnable, { config, logger, env: options.env, signal: options.signal, onState: report }).finally(() => bars.stop());
  for (const { connector, reason } of placement.unplaceable) {
    const error = new InstallerError(connector, reason, 'CONNECTOR_UNAVAILABLE');
    logger.error({ connector, reason }, 'connector cannot run on this machine');
    report({ connector, status: 'failed', error: error.message });
    results.failed.set(connector, error);
  }
  if (options.signal?.aborted) throw new MachineStartError('stopped while installing', 'MACHINE_STOPPED');
  if (config.MACHINE_STRICT && results.failed.size > 0) {
    throw new MachineStartError(`MACHINE_STRICT=1 and installers failed:${failureLines(results)}`, 'INSTALL_FAILED_STRICT');
  }
  const accepted = config.WORKER_CONNECTORS.map((r) => r.name).filter((n) => results.succeeded.has(n));
  if (accepted.length === 0) {
    throw new MachineStartError(`no connector could be prepared (WORKER_CONNECTORS lists what to run):${failureLines(results)}`, 'NO_CONNECTORS');
  }
  return { results, accepted };
}

/** Step 4: the PM2 ecosystem for the connectors that installed, written to disk and read back. */
export async function writeMachineEcosystem(
  { config, logger }: PrepareOptions,
  hardware: Hardware,
  installed: Installed,
  redisUrl: string,
): Promise<{ ecosystem: Ecosystem; file: string }> {
  const accepted = new Set(installed.accepted);
  const placement = placeConnectors(config.WORKER_CONNECTORS, hardware.gpus, { apiConcurrency: config.API_WORKER_CONCURRENCY }, (n) =>
    accepted.has(n),
  );
  const outcomes = [...installed.results.succeeded.values()];
  const ecosystem = buildEcosystem({
    config,
    redisUrl,
    placement,
    comfyui: outcomes.find((o) => o.comfyui)?.comfyui,
    models: outcomes.flatMap((o) => o.models ?? []),
    apiWorkerEnv: Object.assign({}, ...outcomes.map((o) => o.workerEnv ?? {})) as Record<string, string>,
  });
  const file = ecosystemPath(config);
  await writeEcosystem(file, ecosystem);
  logger.info({ file, apps: ecosystem.apps.map((a) => a.name) }, 'ecosystem written');
  return { ecosystem: readEcosystem(file), file };
}
