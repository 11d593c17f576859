import type { Progress } from '@conveyor/core';
import type { Logger } from 'pino';
import type { ConnectorName } from '../catalog.ts';
import type { ComfyUiInstall } from '../ecosystem.ts';
import type { AgentConfig } from '../env.ts';

export interface InstallContext {
  readonly connector: ConnectorName;
  readonly config: AgentConfig;
  /** The environment the connector's worker inherits (the agent's own). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** Aborts the installer when the agent is stopping. */
  readonly signal?: AbortSignal;
  progress(progress: Progress): void;
}

export interface InstallOutcome {
  /** `skipped`: everything was already installed (or there is nothing to install). */
  readonly status: 'done' | 'skipped';
  /** Settings the connector's worker needs (e.g. CHROMIUM_PATH). */
  readonly workerEnv?: Record<string, string>;
  /** Models now present on this machine, advertised by the GPU workers. */
  readonly models?: string[];
  readonly comfyui?: ComfyUiInstall;
}

export type Installer = (ctx: InstallContext) => Promise<InstallOutcome>;

/** How far one install step is (0-1) and what it is doing, in the tool's own words. */
export type StepProgress = (fraction: number, detail?: string) => void;
