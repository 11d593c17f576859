import { createRequire } from 'node:module';
import type { InstallerState } from '@conveyor/core';
import type * as CliProgress from 'cli-progress';

const require = createRequire(import.meta.url);

/** Installer progress as terminal bars; silent when stderr is not a terminal (logs carry it then). */
export class InstallProgressBars {
  private readonly multibar: CliProgress.MultiBar | undefined;
  private readonly bars = new Map<string, CliProgress.SingleBar>();

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    if (!stream.isTTY) return;
    // Loaded only for a terminal: a machine started by a supervisor never draws bars.
    const { MultiBar, Presets } = require('cli-progress') as typeof CliProgress;
    this.multibar = new MultiBar(
      { stream, format: ' {connector} [{bar}] {percentage}% {status} {message}', hideCursor: true, clearOnComplete: false },
      Presets.shades_classic,
    );
  }

  update(state: InstallerState): void {
    if (!this.multibar) return;
    const payload = { connector: state.connector.padEnd(10), status: state.status, message: state.error ?? state.progress?.message ?? '' };
    const value = state.progress?.percent ?? 0;
    const bar = this.bars.get(state.connector);
    if (bar) bar.update(value, payload);
    else this.bars.set(state.connector, this.multibar.create(100, value, payload));
  }

  stop(): void {
    this.multibar?.stop();
  }
}
