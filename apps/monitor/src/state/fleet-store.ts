import type { DeltaMessage, Job, JobEvent, MachineState, QueueStats, SnapshotMessage, WorkerState } from '../protocol.ts';
import { applyEvent, rowOf, TERMINAL, type JobRow } from './job-rows.ts';
import { History, Throughput } from './metrics.ts';

/** The registry marks entries not seen for this long offline (FleetRegistry.ttlMs). */
export const OFFLINE_AFTER_MS = 15_000;
/** Redis drops an entry 4 × the TTL after its last heartbeat; the monitor forgets it then too. */
const FORGET_AFTER_MS = 4 * OFFLINE_AFTER_MS;
/** Rows kept for the jobs list; the oldest finished ones go first beyond this. */
export const MAX_JOBS = 20_000;

export interface QueueSample {
  /** Waiting jobs per service. */
  readonly depth: Readonly<Record<string, number>>;
  /** Age of the oldest waiting job per service, ms. */
  readonly oldestMs: Readonly<Record<string, number>>;
}

export interface WorkerCounts {
  readonly busy: number;
  readonly idle: number;
  readonly other: number;
}

export interface FleetView {
  readonly machines: ReadonlyMap<string, MachineState>;
  readonly workers: ReadonlyMap<string, WorkerState>;
  readonly jobs: ReadonlyMap<string, JobRow>;
  readonly queues: QueueStats | null;
  readonly throughput: Throughput;
  readonly queueHistory: History<QueueSample>;
  readonly workerHistory: History<WorkerCounts>;
  /** Server clock minus this browser's clock, from the last message's `at`. */
  readonly clockOffsetMs: number;
  /** Server time of the last snapshot; null before the first. */
  readonly syncedAt: number | null;
}

type JobListener = (event: JobEvent) => void;

/** Liveness as the registry would report it now: an entry whose heartbeats stopped is offline. */
export function liveStatus<S extends string>(entry: { status: S; lastSeen?: number; updatedAt: number }, serverNow: number): S | 'offline' {
  const seen = entry.lastSeen ?? entry.updatedAt;
  return entry.status !== 'stopped' && serverNow - seen > OFFLINE_AFTER_MS ? 'offline' : entry.status;
}

export function queueSample(stats: QueueStats, serverNow: number): QueueSample {
  const depth: Record<string, number> = {};
  const oldestMs: Record<string, number> = {};
  for (const q of stats.queues) {
    const service = q.spec.service;
    depth[service] = (depth[service] ?? 0) + q.depth;
    if (q.depth > 0) oldestMs[service] = Math.max(oldestMs[service] ?? 0, serverNow - q.oldestPendingSince);
  }
  return { depth, oldestMs };
}

export function workerCounts(workers: Iterable<WorkerState>, serverNow: number): WorkerCounts {
  let busy = 0;
  let idle = 0;
  let other = 0;
  for (const w of workers) {
    const status = liveStatus(w, serverNow);
    if (status === 'busy') busy++;
    else if (status === 'idle') idle++;
    else if (status !== 'stopped') other++;
  }
  return { busy, idle, other };
}

/**
 * Everything the monitor knows, rebuilt from each snapshot and patched by each delta. React reads
 * it through `subscribe`/`view` (useSyncExternalStore); every change publishes a new view object.
 */
export class FleetStore {
  private machines = new Map<string, MachineState>();
  private workers = new Map<string, WorkerState>();
  private jobs = new Map<string, JobRow>();
  private queues: QueueStats | null = null;
  private readonly throughput = new Throughput();
  private readonly queueHistory = new History<QueueSample>();
  private readonly workerHistory = new History<WorkerCounts>();
  private clockOffsetMs = 0;
  private syncedAt: number | null = null;
  private current: FleetView;
  private readonly listeners = new Set<() => void>();
  private readonly jobListeners = new Map<string, Set<JobListener>>();

  constructor(private readonly now: () => number = Date.now) {
    this.current = this.build();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  view = (): FleetView => this.current;

  serverNow(): number {
    return this.now() + this.clockOffsetMs;
  }

  /** Calls `listener` with each live event of one job (the job detail view refreshes on them). */
  onJobEvent(jobId: string, listener: JobListener): () => void {
    let set = this.jobListeners.get(jobId);
    if (!set) this.jobListeners.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.jobListeners.delete(jobId);
    };
  }

  /** Replaces the fleet and queues; job rows are merged (older rows stay for the list). Returns ids of rows the snapshot may have left stale. */
  applySnapshot(s: SnapshotMessage): string[] {
    this.clockOffsetMs = s.at - this.now();
    this.machines = new Map(s.machines.map((m) => [m.machineId, m]));
    this.workers = new Map(s.workers.map((w) => [w.workerId, w]));
    this.queues = s.queues;
    const inSnapshot = new Set(s.recentJobs.map((j) => j.id));
    const stale = [...this.jobs.values()].filter((r) => !TERMINAL.has(r.status) && !inSnapshot.has(r.id)).map((r) => r.id);
    this.upsertJobs(s.recentJobs, false);
    this.syncedAt = s.at;
    this.sample();
    this.publish();
    return stale;
  }

  applyDelta(d: DeltaMessage): void {
    this.clockOffsetMs = d.at - this.now();
    if (d.fleet.length > 0) {
      this.machines = new Map(this.machines);
      this.workers = new Map(this.workers);
    }
    for (const f of d.fleet) {
      if (f.kind === 'machine') this.machines.set(f.machine.machineId, { ...f.machine, lastSeen: d.at });
      else if (f.kind === 'worker') this.workers.set(f.worker.workerId, { ...f.worker, lastSeen: d.at });
      else if (f.kind === 'machine-removed') this.machines.delete(f.machineId);
      else this.workers.delete(f.workerId);
    }
    if (d.queues) {
      this.queues = d.queues;
      // Queue stats change at most every few seconds; sampling each change keeps the chart's last point current.
      this.queueHistory.push(d.at, queueSample(d.queues, d.at));
    }
    if (d.jobs.length > 0) {
      const jobs = new Map(this.jobs);
      for (const e of d.jobs) {
        if (e.type === 'completed' || e.type === 'failed') this.throughput.add(e.type, e.ts);
        const row = applyEvent(jobs.get(e.job), e);
        if (row) jobs.set(e.job, row);
      }
      this.jobs = jobs;
      this.trimJobs();
    }
    this.publish();
    for (const e of d.jobs) for (const listener of this.jobListeners.get(e.job) ?? []) listener(e);
  }

  /** Rows from HTTP answers (job lists, job detail); an answer older than the row does not overwrite it. */
  upsertJobs(list: readonly Job[], publish = true): void {
    if (list.length === 0) return;
    const jobs = new Map(this.jobs);
    for (const job of list) {
      const have = jobs.get(job.id);
      if (!have || have.updatedAt <= job.updatedAt) jobs.set(job.id, rowOf(job));
    }
    this.jobs = jobs;
    this.trimJobs();
    if (publish) this.publish();
  }

  removeJob(id: string): void {
    if (!this.jobs.has(id)) return;
    this.jobs = new Map(this.jobs);
    this.jobs.delete(id);
    this.publish();
  }

  /** History from before the monitor connected: finished jobs from the list, counted by finish time. */
  seedThroughput(finished: readonly Job[], before: number, coveredSince: number | null): void {
    for (const job of finished) {
      if (job.finishedAt === undefined || job.finishedAt >= before) continue;
      if (job.status === 'completed' || job.status === 'failed') this.throughput.add(job.status, job.finishedAt);
    }
    this.throughput.coveredSince = coveredSince;
    this.publish();
  }

  /** Periodic: history samples, and forgetting fleet entries Redis has expired. */
  tick(): void {
    const now = this.serverNow();
    this.throughput.prune(now);
    const forget = <T extends { lastSeen?: number; updatedAt: number }>(map: Map<string, T>) =>
      new Map([...map].filter(([, e]) => now - (e.lastSeen ?? e.updatedAt) <= FORGET_AFTER_MS));
    this.machines = forget(this.machines);
    this.workers = forget(this.workers);
    this.sample();
    this.publish();
  }

  private sample(): void {
    const now = this.serverNow();
    if (this.queues) this.queueHistory.push(now, queueSample(this.queues, now));
    this.workerHistory.push(now, workerCounts(this.workers.values(), now));
  }

  private trimJobs(): void {
    if (this.jobs.size <= MAX_JOBS * 1.1) return;
    const finished = [...this.jobs.values()].filter((r) => TERMINAL.has(r.status)).sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const row of finished.slice(0, this.jobs.size - MAX_JOBS)) this.jobs.delete(row.id);
  }

  private publish(): void {
    this.current = this.build();
    for (const listener of this.listeners) listener();
  }

  private build(): FleetView {
    return {
      machines: this.machines,
      workers: this.workers,
      jobs: this.jobs,
      queues: this.queues,
      throughput: this.throughput,
      queueHistory: this.queueHistory,
      workerHistory: this.workerHistory,
      clockOffsetMs: this.clockOffsetMs,
      syncedAt: this.syncedAt,
    };
  }
}
