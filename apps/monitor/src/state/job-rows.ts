import type { Job, JobError, JobEvent, JobStatus, Progress } from '../protocol.ts';

/** What the jobs list shows of a job; kept up to date from events without refetching the job. */
export interface JobRow {
  readonly id: string;
  /** Empty until known: events after `pending` do not repeat the service. */
  readonly service: string;
  readonly tenant: string;
  readonly status: JobStatus;
  readonly progress?: Progress;
  readonly worker?: string;
  readonly machine?: string;
  readonly attempts: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt?: number;
  readonly error?: JobError;
  readonly cancelRequested: boolean;
}

export const TERMINAL: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

/** Job ids start with the submit time in milliseconds (13 digits). */
export function createdAtOf(id: string): number {
  const ms = Number(id.slice(0, 13));
  return Number.isFinite(ms) ? ms : 0;
}

export function rowOf(job: Job): JobRow {
  return {
    id: job.id,
    service: job.service,
    tenant: job.tenant,
    status: job.status,
    progress: job.progress,
    worker: job.worker,
    machine: job.machine,
    attempts: job.attempts,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt,
    error: job.error,
    cancelRequested: job.cancelRequested,
  };
}

/**
 * A job row after one event. Events are applied as upserts (the protocol may repeat what a
 * snapshot already shows), so an event older than the row leaves it as it is.
 */
export function applyEvent(row: JobRow | undefined, e: JobEvent): JobRow | undefined {
  if (e.type === 'webhook' || e.type === 'lease-expired' || e.type === 'lease-released') return row;
  const base: JobRow = row ?? {
    id: e.job,
    service: e.service ?? '',
    tenant: e.tenant,
    status: 'pending',
    attempts: 0,
    createdAt: createdAtOf(e.job),
    updatedAt: 0,
    cancelRequested: false,
  };
  if (e.ts < base.updatedAt) return row;
  const next = { ...base, updatedAt: e.ts, service: base.service || (e.service ?? '') };
  switch (e.type) {
    case 'pending':
    case 'delayed':
      return { ...next, status: e.type, progress: undefined, worker: undefined, finishedAt: undefined };
    case 'active':
      return { ...next, status: 'active', worker: e.worker, machine: e.machine, attempts: e.attempt ?? base.attempts + 1, progress: undefined, error: undefined };
    case 'progress':
      return { ...next, status: 'active', progress: e.progress ?? base.progress };
    case 'retrying':
      return { ...next, status: 'delayed', error: e.error ?? base.error };
    case 'cancel-requested':
      return { ...next, cancelRequested: true };
    case 'completed':
      return { ...next, status: 'completed', finishedAt: e.ts, progress: { percent: 100, message: base.progress?.message } };
    case 'failed':
      return { ...next, status: 'failed', finishedAt: e.ts, error: e.error ?? base.error };
    case 'cancelled':
      return { ...next, status: 'cancelled', finishedAt: e.ts };
  }
}
