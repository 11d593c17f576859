import type { Job, JobEvent } from '@conveyor/core';

/** RunPod's job states (docs.runpod.io, serverless/endpoints/job-states). */
export type RunPodStatus = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT';

/**
 * Conveyor status → RunPod status. A job waiting for its next attempt (delayed) is still queued;
 * a job that failed because its time limit ran out is RunPod's TIMED_OUT.
 */
export function runpodStatus(job: Pick<Job, 'status' | 'error'>): RunPodStatus {
  switch (job.status) {
    case 'pending':
    case 'delayed':
      return 'IN_QUEUE';
    case 'active':
      return 'IN_PROGRESS';
    case 'completed':
      return 'COMPLETED';
    case 'cancelled':
      return 'CANCELLED';
    case 'failed':
      return job.error?.code === 'TIMEOUT' ? 'TIMED_OUT' : 'FAILED';
  }
}

/** The `/status` (and `/runsync`) body: `id`, `status`, the timings once known, then `output` or `error`. */
export function statusBody(job: Job): Record<string, unknown> {
  const body: Record<string, unknown> = { id: job.id, status: runpodStatus(job) };
  // RunPod's delayTime is the wait before a worker took the job; executionTime the run itself (ms).
  if (job.startedAt !== undefined) body.delayTime = Math.max(0, job.startedAt - job.createdAt);
  if (job.startedAt !== undefined && job.finishedAt !== undefined && job.status !== 'cancelled') {
    body.executionTime = Math.max(0, job.finishedAt - job.startedAt);
  }
  if (job.status === 'completed') body.output = job.result ?? null;
  if (job.status === 'failed' && job.error) body.error = job.error.message;
  return body;
}

/**
 * `/stream` chunks from timeline entries: each progress report is one `{ output }`, the report
 * itself (`percent`, `message`, and the connector's `data`, e.g. an LLM's `partial` text).
 */
export function streamChunks(events: readonly JobEvent[]): { output: unknown }[] {
  return events.flatMap((e) => (e.type === 'progress' && e.progress ? [{ output: e.progress }] : []));
}
