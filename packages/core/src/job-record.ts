import { ConveyorError } from './errors.ts';
import { withCompiledCheck } from './compiled-schema.ts';
import { DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_STALLS, Job, JobSubmission, type ParsedJobSubmission } from './schemas/job.ts';

const JSON_FIELDS = ['payload', 'requirements', 'prefer', 'backoff', 'workflow', 'webhook', 'progress', 'result', 'error'] as const;
const NUMBER_FIELDS = [
  'priority',
  'attempts',
  'maxAttempts',
  'stalls',
  'maxStalls',
  'timeoutMs',
  'createdAt',
  'updatedAt',
  'startedAt',
  'finishedAt',
  'dueAt',
  'leaseDeadline',
] as const;

/** The other fields of `Job` are stored as they are (service, tenant, status, worker, ...). */
const STRING_FIELDS = Object.keys(Job.shape).filter(
  (field) => field !== 'id' && field !== 'cancelRequested' && !(JSON_FIELDS as readonly string[]).includes(field) && !(NUMBER_FIELDS as readonly string[]).includes(field),
);

/** A stored job hash that does not parse: it is reported, never handed to a connector. */
export class CorruptJobError extends ConveyorError {
  constructor(
    readonly jobId: string,
    detail: string,
  ) {
    super('CORRUPT_JOB', `stored job ${jobId} is malformed: ${detail}`);
  }
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/**
 * Field/value pairs stored on a new job; `submit` adds status, rank and timestamps. A field at its
 * default (no requirements, priority 0, the default attempts, stalls and backoff) is not stored: every
 * field costs bytes per job, and `jobFromHash` and the functions fill the defaults back in.
 */
export function submissionFields(job: ParsedJobSubmission, payloadJson: string): string[] {
  const fields = ['payload', payloadJson];
  if (Object.values(job.requirements).some((v) => v !== undefined)) fields.push('requirements', JSON.stringify(job.requirements));
  if (job.prefer?.models?.length) fields.push('prefer', JSON.stringify({ models: job.prefer.models }));
  if (job.priority !== 0) fields.push('priority', String(job.priority));
  if (job.maxAttempts !== DEFAULT_MAX_ATTEMPTS) fields.push('maxAttempts', String(job.maxAttempts));
  if (job.maxStalls !== DEFAULT_MAX_STALLS) fields.push('maxStalls', String(job.maxStalls));
  const { backoff } = job;
  const defaultBackoff = backoff.type === DEFAULT_BACKOFF.type && backoff.delayMs === DEFAULT_BACKOFF.delayMs && backoff.maxDelayMs === DEFAULT_BACKOFF.maxDelayMs;
  if (!defaultBackoff) fields.push('backoff', JSON.stringify(backoff));
  if (job.timeoutMs !== undefined) fields.push('timeoutMs', String(job.timeoutMs));
  if (job.idempotencyKey !== undefined) fields.push('idempotencyKey', job.idempotencyKey);
  if (job.workflow) fields.push('workflow', JSON.stringify(job.workflow));
  if (job.webhook) fields.push('webhook', JSON.stringify(job.webhook));
  return fields;
}

export function hashToRecord(flat: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i] as string] = flat[i + 1] as string;
  return record;
}

/** `Job.safeParse` for the records jobs are stored as, without zod's cost on the hot path. */
const CheckedJob = withCompiledCheck(Job);

/**
 * `JobSubmission.safeParse` for every door a job comes in by (the broker's submit, the API's), at
 * the compiled check's cost for the submissions it accepts; zod's own issues for the rest.
 */
export const CheckedJobSubmission = withCompiledCheck(JobSubmission);

/**
 * What a job hash says of each field of `Job`, defaults filled in: JSON fields parsed, number fields
 * read as numbers. Fields that are not the job's (sig, rank, lease, the timeline kept in the hash:
 * redis/functions/includes/emit.lua, ...) are not read; `Job` would drop them.
 */
function jobFields(id: string, hash: Record<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = { id, cancelRequested: hash.cancelRequested === '1' };
  for (const field of STRING_FIELDS) if (hash[field] !== undefined) raw[field] = hash[field];
  try {
    for (const field of JSON_FIELDS) if (hash[field] !== undefined) raw[field] = JSON.parse(hash[field]);
  } catch (err) {
    throw new CorruptJobError(id, `a JSON field does not parse (${(err as Error).message})`);
  }
  // Lease fields outlive the lease on finished jobs (cheaper than deleting them); only an active job has one.
  for (const field of NUMBER_FIELDS) if (hash[field] !== undefined && (field !== 'leaseDeadline' || hash.status === 'active')) raw[field] = Number(hash[field]);
  // A job id starts with its creation time in ms (submit.lua), which is not stored again.
  raw.createdAt ??= Number(id.slice(0, 13));
  raw.updatedAt ??= raw.createdAt;
  raw.requirements ??= {};
  raw.priority ??= 0;
  raw.attempts ??= 0;
  raw.maxAttempts ??= DEFAULT_MAX_ATTEMPTS;
  raw.stalls ??= 0;
  raw.maxStalls ??= DEFAULT_MAX_STALLS;
  raw.backoff ??= DEFAULT_BACKOFF;
  // A finished job's last change is its end, and a completed one is at 100% (not stored twice).
  if (FINISHED.has(String(raw.status))) raw.finishedAt ??= raw.updatedAt;
  if (raw.status === 'completed') raw.progress ??= { percent: 100 };
  return raw;
}

/** Decodes the hash of job `id` into a validated `Job` (validated on the way out of Redis too). */
export function jobFromHash(id: string, hash: Record<string, string>): Job {
  const parsed = CheckedJob.safeParse(jobFields(id, hash));
  if (!parsed.success) {
    throw new CorruptJobError(id, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}
