import { z } from 'zod';
import { Identifier, JobId, ServiceName } from './names.ts';

const Names = z.array(Identifier).max(64, 'at most 64 entries');

/**
 * Hard constraints a worker must meet to run a job. Every field narrows; an empty object means
 * any worker of the service. Add a kind here and in `redis/functions/includes/matches.lua`.
 */
export const Requirements = z
  .object({
    /** Minimum GPU memory of the worker's GPU, in MiB. */
    gpuMemoryMb: z.number().int().positive().max(10_000_000).optional(),
    /** Models the worker must have installed or loaded. */
    models: Names.optional(),
    /** Free-form capability tags the worker must carry. */
    tags: Names.optional(),
    /** Machine pool the worker must belong to. */
    pool: Identifier.optional(),
    /** Pins the job to one machine. */
    machineId: Identifier.optional(),
    /** `dedicated`: only a worker whose tenant allow-list names this job's tenant may run it. */
    isolation: z.enum(['shared', 'dedicated']).optional(),
    /** Negative requirements: never on a worker that has any of these. */
    exclude: z
      .object({ models: Names.optional(), tags: Names.optional(), pools: Names.optional(), machineIds: Names.optional() })
      .strict()
      .optional(),
  })
  .strict();
export type Requirements = z.infer<typeof Requirements>;

/** Most models a job may prefer: each is one warm index the job's signature is kept in. */
export const MAX_PREFERRED_MODELS = 8;

/**
 * Soft preferences: they reorder, never exclude. A worker holding one of `models` warm takes the job
 * before older cold work within the broker's `warmWindow`, and an idle one is woken first.
 */
export const Preferences = z
  .object({
    /** Models the job will load (checkpoints, LoRAs, a chat model): a worker holding one runs it sooner. */
    models: z.array(Identifier).max(MAX_PREFERRED_MODELS, `at most ${MAX_PREFERRED_MODELS} entries`).optional(),
  })
  .strict();
export type Preferences = z.infer<typeof Preferences>;

export const Backoff = z
  .object({
    type: z.enum(['fixed', 'exponential']),
    delayMs: z.number().int().min(0).max(86_400_000),
    maxDelayMs: z.number().int().min(0).max(86_400_000).optional(),
  })
  .strict();
export type Backoff = z.infer<typeof Backoff>;

/** Defaults a job is submitted with; a stored job omits a field at its default (see job-record.ts). */
export const DEFAULT_BACKOFF: Backoff = { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000 };
export const DEFAULT_MAX_ATTEMPTS = 3;
/**
 * Lost leases (the worker crashed or hung) a job survives before it fails with STALLED: a crash is
 * rarely the job's fault and does not spend `maxAttempts`, but a job that takes down every worker
 * it runs on must stop somewhere.
 */
export const DEFAULT_MAX_STALLS = 5;

export const Workflow = z
  .object({ id: Identifier, step: z.number().int().min(1), total: z.number().int().min(1) })
  .strict()
  .refine((w) => w.step <= w.total, { message: 'step must not exceed total', path: ['step'] });
export type Workflow = z.infer<typeof Workflow>;

export const Webhook = z
  .object({
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
    secret: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
    /**
     * The body posted: unset, Conveyor's signed envelope with the job; `runpod`, RunPod's job
     * status object, as RunPod posts it (set by the RunPod-compatible front door).
     */
    format: z.enum(['runpod']).optional(),
  })
  .strict();
export type Webhook = z.infer<typeof Webhook>;

export const PRIORITY_MIN = -1000;
export const PRIORITY_MAX = 1000;

/** What a client sends to create a job. Unknown fields are rejected, not ignored. */
export const JobSubmission = z
  .object({
    service: ServiceName,
    payload: z.unknown().refine((p) => p !== undefined, 'is required'),
    /** Higher runs sooner; one level outranks `priorityWeight` queued jobs, so old work still ages forward. */
    priority: z.number().int().min(PRIORITY_MIN).max(PRIORITY_MAX).default(0),
    requirements: Requirements.default({}),
    /** Soft preferences (see `Preferences`); the API fills `models` from the connector's contract when absent. */
    prefer: Preferences.optional(),
    tenant: Identifier.default('default'),
    maxAttempts: z.number().int().min(1).max(100).default(DEFAULT_MAX_ATTEMPTS),
    /** Lost leases (worker crashed or hung) tolerated, counted apart from failed attempts; one more fails the job STALLED. */
    maxStalls: z.number().int().min(0).max(100).default(DEFAULT_MAX_STALLS),
    backoff: Backoff.default(DEFAULT_BACKOFF),
    timeoutMs: z.number().int().positive().max(7 * 86_400_000).optional(),
    delayMs: z.number().int().min(0).max(30 * 86_400_000).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
    workflow: Workflow.optional(),
    webhook: Webhook.optional(),
  })
  .strict();
export type JobSubmission = z.input<typeof JobSubmission>;
export type ParsedJobSubmission = z.output<typeof JobSubmission>;

export const JobStatus = z.enum(['pending', 'delayed', 'active', 'completed', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;
export const JOB_STATUSES = JobStatus.options;

export const Progress = z
  .object({
    percent: z.number().min(0).max(100),
    message: z.string().max(1000).optional(),
    data: z.unknown().optional(),
  })
  .strict();
export type Progress = z.infer<typeof Progress>;

/** Failure reasons are machine-readable codes; `retryable` decides whether another attempt runs. */
export const JobError = z
  .object({
    code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be an UPPER_SNAKE code'),
    message: z.string().max(10_000),
    retryable: z.boolean(),
  })
  .strict();
export type JobError = z.infer<typeof JobError>;

/** A job as stored in Redis and returned to clients. */
export const Job = z.object({
  id: JobId,
  service: ServiceName,
  tenant: Identifier,
  status: JobStatus,
  payload: z.unknown(),
  priority: z.number().int(),
  requirements: Requirements,
  prefer: Preferences.optional(),
  attempts: z.number().int().min(0),
  maxAttempts: z.number().int().min(1),
  /** Leases lost so far (the worker crashed or hung): not counted in `attempts`. */
  stalls: z.number().int().min(0),
  maxStalls: z.number().int().min(0),
  backoff: Backoff,
  timeoutMs: z.number().int().optional(),
  idempotencyKey: z.string().optional(),
  workflow: Workflow.optional(),
  webhook: Webhook.optional(),
  progress: Progress.optional(),
  result: z.unknown().optional(),
  error: JobError.optional(),
  worker: z.string().optional(),
  machine: z.string().optional(),
  cancelRequested: z.boolean(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  startedAt: z.number().int().optional(),
  finishedAt: z.number().int().optional(),
  dueAt: z.number().int().optional(),
  leaseDeadline: z.number().int().optional(),
});
export type Job = z.infer<typeof Job>;
