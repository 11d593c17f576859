import { CheckedJobSubmission, type Broker, type JobSubmission } from '@conveyor/core';
import { z } from 'zod';
import { canSee, type Principal } from '../auth/authenticator.ts';
import { ApiError } from '../errors.ts';
import type { TenantLimits } from '../limits/tenant-limits.ts';
import { noLiveWorker, type LiveWorkerCheck, type SubmitWarning } from './live-workers.ts';
import { checkPayload } from './payload-contract.ts';
import type { WebhookDestinations } from '../webhooks/destination.ts';
import { withPreferredModels } from './preferences.ts';

export interface SubmitDeps {
  readonly broker: Broker;
  readonly limits: TenantLimits;
  /** Server-wide webhook secret; a job naming a webhook must carry its own secret when this is unset. */
  readonly webhookSecret: string | undefined;
  readonly webhookDestinations: WebhookDestinations;
  /** Most jobs one `POST /api/jobs/batch` may carry. */
  readonly maxBatchJobs: number;
  readonly liveWorkers: LiveWorkerCheck;
}

/** A submit that passed every check and holds the tenant's admission slot: what to hand the broker. */
export interface AdmittedJob {
  readonly tenant: string;
  readonly submission: JobSubmission;
  /** Refuse the job (409 NO_LIVE_WORKER) rather than queue it when no live worker can run it. */
  readonly requireWorker: boolean;
}

export const IdempotencyKey = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/**
 * Everything a submit must pass before any write, for every front door (HTTP, batch, WebSocket,
 * /v2, /v1): validation (the payload too, against its connector's contract), tenant scoping, webhook rules, the priority cap (admin keys are exempt)
 * and the tenant's limits. A rejected submit leaves nothing behind; an admitted one holds a
 * pending slot the caller gives back (`limits.release`) when the broker queues nothing new.
 */
export async function admitJob(deps: SubmitDeps, principal: Principal, body: unknown, idempotencyHeader?: string): Promise<AdmittedJob> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ApiError.invalid([{ path: '', message: 'must be a JSON object describing the job' }], 'job');
  }
  // An instruction to this API, not part of the job the broker stores.
  const { requireWorker = false, ...fields } = body as Record<string, unknown>;
  if (typeof requireWorker !== 'boolean') throw ApiError.invalid([{ path: 'requireWorker', message: 'must be true or false' }], 'job');
  const parsed = CheckedJobSubmission.safeParse(fields);
  if (!parsed.success) throw ApiError.fromZod(parsed.error, 'job');
  const job = parsed.data;
  const payloadModels = checkPayload(job.service, job.payload);
  const explicitTenant = fields.tenant !== undefined;
  const tenant = explicitTenant ? job.tenant : principal.tenant;
  if (!canSee(principal, tenant)) throw ApiError.forbidden(`this key may only submit jobs for tenant ${principal.tenant}`);

  let idempotencyKey = job.idempotencyKey;
  if (idempotencyHeader !== undefined) {
    const header = IdempotencyKey.safeParse(idempotencyHeader);
    if (!header.success) throw ApiError.fromZod(header.error, 'Idempotency-Key header', 'headers.idempotency-key');
    if (idempotencyKey !== undefined && idempotencyKey !== header.data) {
      throw ApiError.invalid([{ path: 'idempotencyKey', message: 'differs from the Idempotency-Key header; send one or make them equal' }], 'job');
    }
    idempotencyKey = header.data;
  }
  if (job.webhook && !job.webhook.format && !job.webhook.secret && !deps.webhookSecret) {
    throw ApiError.invalid([{ path: 'webhook.secret', message: 'is required: this server has no CONVEYOR_WEBHOOK_SECRET to sign deliveries with' }], 'job');
  }
  const refusal = job.webhook && deps.webhookDestinations.refusal(job.webhook.url);
  if (refusal) throw ApiError.invalid([{ path: 'webhook.url', message: refusal }], 'job');

  await deps.limits.admit(tenant, principal.admin ? undefined : job.priority);
  return { tenant, submission: withPreferredModels({ ...(fields as JobSubmission), tenant, idempotencyKey }, payloadModels), requireWorker };
}

/**
 * Whether a live worker can run an admitted job: the NO_LIVE_WORKER warning when none can, thrown
 * as a 409 when the job asked for `requireWorker` (before anything is written).
 */
export async function reachOf(deps: SubmitDeps, admitted: AdmittedJob): Promise<SubmitWarning | undefined> {
  const { submission, tenant } = admitted;
  const warning = await deps.liveWorkers.warning({ service: submission.service, tenant, requirements: submission.requirements }, admitted.requireWorker);
  if (warning && admitted.requireWorker) throw noLiveWorker(warning);
  return warning;
}

/** The one submit path of HTTP and WebSocket alike: admits the job, then calls the broker once. */
export async function submitJob(
  deps: SubmitDeps,
  principal: Principal,
  body: unknown,
  idempotencyHeader?: string,
): Promise<{ id: string; duplicate: boolean; tenant: string; warnings: SubmitWarning[] }> {
  const admitted = await admitJob(deps, principal, body, idempotencyHeader);
  const { tenant, submission } = admitted;
  let result: { id: string; duplicate: boolean };
  let warning: SubmitWarning | undefined;
  try {
    // A job that may wait is queued while its reach is read; one that may not is judged first.
    if (admitted.requireWorker) {
      warning = await reachOf(deps, admitted);
      result = await deps.broker.submit(submission);
    } else {
      [result, warning] = await Promise.all([deps.broker.submit(submission), reachOf(deps, admitted)]);
    }
  } catch (err) {
    deps.limits.release(tenant);
    throw err;
  }
  if (result.duplicate) deps.limits.release(tenant);
  return { ...result, tenant, warnings: warning ? [warning] : [] };
}
