import type { Broker, Reach, Requirements } from '@conveyor/core';
import { ApiError } from '../errors.ts';

/** Something the client should know about a job that was accepted all the same. */
export interface SubmitWarning {
  readonly code: 'NO_LIVE_WORKER';
  readonly message: string;
  /** Per capability class of the service: the requirement that excludes it, and what it offers. */
  readonly excluded: Reach['excluded'];
}

export interface JobReach {
  readonly service: string;
  readonly tenant: string;
  readonly requirements?: Requirements;
}

/** How a requirement that excludes a class reads in a message. */
function requirementOf(reason: string): string {
  if (reason === 'no-live-worker') return 'have no live worker';
  if (reason === 'tenant') return "do not serve this tenant (the workers' tenant allow/deny list)";
  return `fail requirements.${reason}`;
}

/** "2 of 3 worker classes serving comfyui fail requirements.gpuMemoryMb; 1 has no live worker." */
export function explain(service: string, reach: Reach): string {
  if (reach.excluded.length === 0) return `no worker serves ${service}: the job waits until a worker for ${service} starts`;
  const byReason = new Map<string, number>();
  for (const { reason } of reach.excluded) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  const parts = [...byReason].map(([reason, n]) => `${n} ${requirementOf(reason)}`);
  return `no live worker can run this job now; of the worker classes serving ${service}, ${parts.join(', ')}. It waits until one can`;
}

/** How long an answer is reused for jobs of the same service, tenant and requirements. */
const REUSE_MS = 1000;
/** Answers kept at most (distinct service, tenant and requirements within REUSE_MS); past it they are dropped. */
const MAX_ANSWERS = 10_000;

/**
 * Whether a live worker can run a job: asks the broker (O(classes of its service), see reach.lua)
 * and answers the warning when none can. An answer is reused for REUSE_MS, so a stream of like
 * submits costs Redis one read a second, not one each; `fresh` skips a reused "none" (a
 * `requireWorker` job is not refused on an answer a worker that just started has made wrong).
 */
export class LiveWorkerCheck {
  private readonly answers = new Map<string, { readonly at: number; readonly warning?: SubmitWarning }>();

  constructor(private readonly broker: Broker) {}

  async warning(job: JobReach, fresh = false): Promise<SubmitWarning | undefined> {
    const key = JSON.stringify([job.service, job.tenant, job.requirements ?? {}]);
    const now = Date.now();
    const known = this.answers.get(key);
    if (known && now - known.at < REUSE_MS && !(fresh && known.warning)) return known.warning;
    const reach = await this.broker.reach(job);
    const warning: SubmitWarning | undefined =
      reach.liveWorkers > 0 ? undefined : { code: 'NO_LIVE_WORKER', message: explain(job.service, reach), excluded: reach.excluded };
    if (this.answers.size >= MAX_ANSWERS) this.answers.clear();
    this.answers.set(key, { at: now, ...(warning ? { warning } : {}) });
    return warning;
  }
}

/** The 409 of a `requireWorker` submit that no live worker can run. */
export function noLiveWorker(warning: SubmitWarning): ApiError {
  return new ApiError(409, 'NO_LIVE_WORKER', `refused (requireWorker): ${warning.message.replace(/\. It waits until one can$/, '')}`);
}
