import type { InstallerState, Progress } from '@conveyor/core';
import type { Logger } from 'pino';
import { catalogEntry, type ConnectorName, type InstallerKind } from '../catalog.ts';
import type { AgentConfig } from '../env.ts';
import { InstallerError } from '../errors.ts';
import { checkApiSettings } from './api-keys.ts';
import { installComfyUi } from './comfyui.ts';
import { installChromium } from './playwright.ts';
import type { InstallOutcome, Installer } from './types.ts';

const nothingToInstall: Installer = async (ctx) => {
  ctx.progress({ percent: 100, message: 'nothing to install' });
  return { status: 'skipped' };
};

const INSTALLERS: Record<InstallerKind, Installer> = {
  comfyui: installComfyUi,
  playwright: installChromium,
  'api-key': checkApiSettings,
  none: nothingToInstall,
};

export interface InstallRun {
  readonly config: AgentConfig;
  readonly logger: Logger;
  /** What workers inherit; defaults to this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
  /** Installers to use instead of the defaults, by kind (tests point them at what a host lacks). */
  readonly installers?: Partial<Record<InstallerKind, Installer>>;
  /** Every state change of every installer (progress bar, Redis status). */
  readonly onState: (state: InstallerState) => void;
}

export interface InstallResults {
  readonly succeeded: Map<ConnectorName, InstallOutcome>;
  readonly failed: Map<ConnectorName, Error>;
}

/** Runs each connector's installer side by side; a failure is recorded against its connector only. */
export async function runInstallers(connectors: readonly ConnectorName[], run: InstallRun): Promise<InstallResults> {
  const succeeded = new Map<ConnectorName, InstallOutcome>();
  const failed = new Map<ConnectorName, Error>();
  for (const connector of connectors) run.onState({ connector, status: 'pending' });
  await Promise.all(
    connectors.map(async (connector) => {
      let last: Progress = { percent: 0 };
      run.onState({ connector, status: 'running', progress: last });
      try {
        const kind = catalogEntry(connector).installer;
        const outcome = await (run.installers?.[kind] ?? INSTALLERS[kind])({
          connector,
          config: run.config,
          env: run.env ?? process.env,
          logger: run.logger,
          signal: run.signal,
          progress: (progress) => {
            last = progress;
            run.onState({ connector, status: 'running', progress });
          },
        });
        succeeded.set(connector, outcome);
        run.onState({ connector, status: outcome.status, progress: { percent: 100, message: last.message } });
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        failed.set(connector, error);
        // An InstallerError is an expected, explained failure: its message says it all.
        if (err instanceof InstallerError) run.logger.error({ connector, code: err.code, error: err.message }, 'installer failed');
        else run.logger.error({ connector, err: error }, 'installer failed');
        run.onState({ connector, status: 'failed', progress: last, error: error.message });
      }
    }),
  );
  return { succeeded, failed };
}
