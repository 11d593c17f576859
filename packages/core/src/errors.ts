import type { ZodError } from 'zod';

/** Base of every error Conveyor raises on purpose; `code` is stable and safe to branch on. */
export class ConveyorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** Input rejected before anything was written; `issues` name each bad field by its path. */
export class ValidationError extends ConveyorError {
  constructor(
    readonly issues: readonly ValidationIssue[],
    what = 'input',
  ) {
    super('INVALID_INPUT', `invalid ${what}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
  }

  /** Unknown fields are reported one by one under their own path, so a client sees which field to drop. */
  static fromZod(error: ZodError, what?: string, pathPrefix = ''): ValidationError {
    const join = (path: readonly (string | number)[]) => [pathPrefix, ...path].filter((p) => p !== '').join('.');
    return new ValidationError(
      error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ path: join([...issue.path, key]), message: 'is not a known field' }))
          : [{ path: join(issue.path), message: issue.message }],
      ),
      what,
    );
  }
}

export class JobNotFoundError extends ConveyorError {
  constructor(readonly jobId: string) {
    super('JOB_NOT_FOUND', `job ${jobId} does not exist (it may have expired after its retention period)`);
  }
}

/** The caller's lease on a job is gone (expired and reaped, or the job ended): its result is discarded. */
export class LeaseLostError extends ConveyorError {
  constructor(readonly jobId: string) {
    super('LEASE_LOST', `lease on job ${jobId} was lost; the job belongs to another attempt now and this result is discarded`);
  }
}

export class InvalidStateError extends ConveyorError {
  constructor(
    readonly jobId: string,
    readonly status: string,
    action: string,
  ) {
    super('INVALID_STATE', `cannot ${action} job ${jobId}: it is ${status}`);
  }
}

/** The functions loaded in Redis are not the ones this code was built against. */
export class LibraryVersionError extends ConveyorError {
  constructor(expected: string, actual: string | null) {
    super(
      'LIBRARY_VERSION_MISMATCH',
      `Redis has function library hash ${actual ?? '(none)'}, this code needs ${expected}; start with loadLibrary enabled or deploy matching code`,
    );
  }
}

/** `durability: 'fsync'` against a Redis that does not fsync every write. */
export class DurabilityError extends ConveyorError {
  constructor(found: string) {
    super(
      'DURABILITY_UNMET',
      `durability 'fsync' needs Redis to run appendonly yes with appendfsync always, found ${found}; configure the Redis so, or choose durability 'default'`,
    );
  }
}

/**
 * In `replicated` durability, no replica confirmed a write within the timeout. The write reached
 * the primary and may survive or not: submit again with the same idempotency key to be sure.
 */
export class ReplicationError extends ConveyorError {
  constructor(action: string, timeoutMs: number) {
    super('NOT_REPLICATED', `${action}: no replica confirmed the write within ${timeoutMs} ms; retry with the same idempotency key`);
  }
}
