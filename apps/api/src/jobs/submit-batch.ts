import { z } from 'zod';
import type { Principal } from '../auth/authenticator.ts';
import { ApiError, toHttpError, type ErrorBody } from '../errors.ts';
import type { SubmitWarning } from './live-workers.ts';
import { admitJob, reachOf, type AdmittedJob, type SubmitDeps } from './submit.ts';

/** One job of a batch, answered as `POST /api/jobs` would answer it alone. */
export interface BatchItemResult {
  readonly index: number;
  /** 201 created, 200 an earlier job with the same idempotency key, else the 4xx the job alone would get. */
  readonly status: number;
  readonly id?: string;
  readonly duplicate?: boolean;
  /** As `POST /api/jobs` answers them (NO_LIVE_WORKER); absent when there are none. */
  readonly warnings?: SubmitWarning[];
  readonly error?: ErrorBody['error'];
}

export interface BatchOutcome {
  readonly results: BatchItemResult[];
  /** The longest Retry-After of the jobs a tenant limit refused (429), if any was. */
  readonly retryAfter?: string;
}

function batchBody(maxJobs: number) {
  return z
    .object({
      jobs: z
        .array(z.unknown())
        .min(1, 'must hold at least one job')
        .max(maxJobs, `must hold at most ${maxJobs} jobs (CONVEYOR_BATCH_MAX_JOBS); split the batch`),
    })
    .strict();
}

/** A job admitted as a single submit admits it, with its reach read (a `requireWorker` job no live worker can run is refused here). */
async function admitWithReach(deps: SubmitDeps, principal: Principal, job: unknown): Promise<AdmittedJob & { warning?: SubmitWarning }> {
  const admitted = await admitJob(deps, principal, job);
  try {
    return { ...admitted, warning: await reachOf(deps, admitted) };
  } catch (err) {
    deps.limits.release(admitted.tenant);
    throw err;
  }
}

/**
 * Submits up to `maxBatchJobs` jobs in one request. Each job passes everything a single submit
 * passes (`admitJob`: validation, tenant scoping, priority cap, limits, its own idempotency key),
 * and is refused alone when it does not; the admitted ones reach Redis together through
 * `broker.submitMany`. An internal failure fails the whole request, as it fails a single submit.
 */
export async function submitBatch(deps: SubmitDeps, principal: Principal, body: unknown): Promise<BatchOutcome> {
  const parsed = batchBody(deps.maxBatchJobs).safeParse(body);
  if (!parsed.success) throw ApiError.fromZod(parsed.error, 'batch');
  const admissions = await Promise.allSettled(parsed.data.jobs.map((job) => admitWithReach(deps, principal, job)));
  const admitted = admissions.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  const releaseAll = () => admitted.forEach((a) => deps.limits.release(a.tenant));
  const broken = admissions.find((a): a is PromiseRejectedResult => a.status === 'rejected' && toHttpError(a.reason).internal);
  if (broken) {
    releaseAll();
    throw broken.reason;
  }
  let submitted: Awaited<ReturnType<SubmitDeps['broker']['submitMany']>>;
  try {
    submitted = await deps.broker.submitMany(admitted.map((a) => a.submission));
  } catch (err) {
    releaseAll();
    throw err;
  }

  let retryAfter: number | undefined;
  let next = 0;
  const results = admissions.map((admission, index): BatchItemResult => {
    if (admission.status === 'rejected') {
      const { status, body: errorBody, headers } = toHttpError(admission.reason);
      if (headers['Retry-After'] !== undefined) retryAfter = Math.max(retryAfter ?? 0, Number(headers['Retry-After']));
      return { index, status, error: errorBody.error };
    }
    const outcome = submitted[next++];
    if (!outcome) throw new Error(`broker.submitMany answered ${submitted.length} results for ${admitted.length} jobs`);
    if (!outcome.ok || outcome.duplicate) deps.limits.release(admission.value.tenant);
    // submitMany refuses a job alone only when the broker finds it invalid.
    if (!outcome.ok) return { index, status: 400, error: { ...outcome.error, issues: [...(outcome.error.issues ?? [])] } };
    const { warning } = admission.value;
    return { index, status: outcome.duplicate ? 200 : 201, id: outcome.id, duplicate: outcome.duplicate, ...(warning ? { warnings: [warning] } : {}) };
  });
  return retryAfter === undefined ? { results } : { results, retryAfter: String(retryAfter) };
}
