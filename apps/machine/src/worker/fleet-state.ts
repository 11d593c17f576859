import type { FleetRegistry, Progress, WorkerState, WorkerStatus } from '@conveyor/core';
import type { JobOutcome, JobTracker, WorkerLogger } from './job-handler.ts';

export type WorkerDescription = Pick<WorkerState, 'workerId' | 'machineId' | 'services' | 'gpuIndex' | 'concurrency'>;

/**
 * Publishes this worker's state (status, current jobs with progress, counters) to the fleet
 * registry on every change and as a heartbeat. Writes never overlap: changes that arrive during
 * a write are folded into one follow-up write, so a burst of progress costs at most two writes.
 */
export class FleetStateReporter implements JobTracker {
  private phase: 'starting' | 'running' | 'draining' | 'stopped' = 'starting';
  private readonly current = new Map<string, Progress | undefined>();
  private jobsDone = 0;
  private jobsFailed = 0;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private warmingModel: string | undefined;

  constructor(
    private readonly fleet: FleetRegistry,
    private readonly worker: WorkerDescription,
    private readonly logger: WorkerLogger,
    private readonly heartbeatMs: number,
    /** The models the worker holds warm now (read at each publish). */
    private readonly warmModels: () => readonly string[] = () => [],
  ) {}

  /** A preload started (`model`) or ended (undefined): shown as `warming <model>`. */
  warming(model: string | undefined): void {
    this.warmingModel = model;
    this.changed();
  }

  /** Publishes `starting` now and heartbeats until `stopped`. */
  start(): void {
    this.changed();
    this.timer = setInterval(() => this.changed(), this.heartbeatMs);
    this.timer.unref();
  }

  running(): void {
    this.phase = 'running';
    this.changed();
  }

  draining(): void {
    this.phase = 'draining';
    this.changed();
  }

  /** Publishes the final `stopped` state and waits until it is written. */
  async stopped(): Promise<void> {
    clearInterval(this.timer);
    this.phase = 'stopped';
    this.changed();
    await this.flushed();
  }

  started(jobId: string): void {
    this.current.set(jobId, undefined);
    this.changed();
  }

  progressed(jobId: string, progress: Progress): void {
    if (!this.current.has(jobId)) return;
    this.current.set(jobId, progress);
    this.changed();
  }

  finished(jobId: string, outcome: JobOutcome): void {
    this.current.delete(jobId);
    if (outcome === 'done') this.jobsDone++;
    else if (outcome === 'failed') this.jobsFailed++;
    this.changed();
  }

  snapshot(): WorkerState {
    const status: WorkerStatus = this.phase === 'running' ? (this.current.size > 0 ? 'busy' : 'idle') : this.phase;
    const warm = this.warmModels();
    return {
      ...this.worker,
      status,
      currentJobs: [...this.current].map(([id, progress]) => (progress ? { id, progress } : { id })),
      jobsDone: this.jobsDone,
      jobsFailed: this.jobsFailed,
      ...(warm.length > 0 ? { warmModels: [...warm] } : {}),
      ...(this.warmingModel ? { warming: this.warmingModel } : {}),
      updatedAt: Date.now(),
    };
  }

  private changed(): void {
    this.dirty = true;
    this.writing ??= this.drain();
  }

  private async drain(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      try {
        await this.fleet.putWorker(this.snapshot());
      } catch (err) {
        this.logger.warn({ err }, 'could not publish worker state');
      }
    }
    this.writing = undefined;
  }

  private async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }
}
