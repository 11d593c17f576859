import type { GpuServiceState } from '@conveyor/core';
import type { Logger } from 'pino';
import type { Ecosystem } from './ecosystem.ts';

/** The health check of each service that runs per GPU: ComfyUI answers /system_stats once it has loaded. */
const HEALTH_PATHS: Record<string, string> = { comfyui: '/system_stats' };

/** Where one GPU's service answers. */
export interface GpuServiceTarget {
  readonly gpu: number;
  readonly service: string;
  readonly url: string;
}

/** The per-GPU services of an ecosystem, read from the GPU workers' settings (GPU_INDEX and COMFYUI_URL). */
export function gpuServiceTargets(ecosystem: Ecosystem): GpuServiceTarget[] {
  const targets: GpuServiceTarget[] = [];
  for (const app of ecosystem.apps) {
    const env = app.env as Record<string, string | undefined>;
    if (env.GPU_INDEX === undefined || !env.COMFYUI_URL) continue;
    targets.push({ gpu: Number(env.GPU_INDEX), service: 'comfyui', url: `${env.COMFYUI_URL}${HEALTH_PATHS.comfyui}` });
  }
  return targets;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Checks each GPU service's health while the machine runs: `warming` until it answers, `ready`
 * while it does, `warming` again if it stops (ComfyUI restarting under PM2). Reports each change;
 * checks every second while something is warming, at the heartbeat interval otherwise.
 */
export class GpuReadiness {
  private states: GpuServiceState[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly targets: readonly GpuServiceTarget[],
    private readonly onChange: (states: GpuServiceState[]) => void,
    private readonly logger: Logger,
    private readonly steadyMs: number,
  ) {
    const now = Date.now();
    this.states = targets.map((t) => ({ gpu: t.gpu, service: t.service, status: 'warming', since: now }));
  }

  get current(): GpuServiceState[] {
    return this.states;
  }

  start(): void {
    void this.check();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async check(): Promise<void> {
    const results = await Promise.all(this.targets.map((t) => answers(t.url)));
    if (this.stopped) return;
    let changed = false;
    this.states = this.states.map((state, i) => {
      const status = results[i] ? 'ready' : 'warming';
      if (status === state.status) return state;
      changed = true;
      this.logger.info({ gpu: state.gpu, service: state.service, status, afterMs: Date.now() - state.since }, `GPU ${state.gpu} ${state.service} ${status}`);
      return { ...state, status, since: Date.now() };
    });
    if (changed) this.onChange(this.states);
    const warming = this.states.some((s) => s.status === 'warming');
    this.timer = setTimeout(() => void this.check(), warming ? 1000 : this.steadyMs);
    this.timer.unref();
  }
}
