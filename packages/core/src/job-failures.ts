import { ConveyorError } from './errors.ts';
import type { JobError } from './schemas/job.ts';

/** Thrown by a handler when another attempt cannot help (bad input, a 400 from the service). */
export class NonRetryableError extends ConveyorError {
  constructor(message: string, code = 'NON_RETRYABLE', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Thrown by a handler when the service said when to come back (429/503 with Retry-After). */
export class RetryAfterError extends ConveyorError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    code = 'RETRY_AFTER',
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Turns whatever a handler threw into the stored `JobError`; unknown errors are retryable. */
export function toJobError(err: unknown): { error: JobError; retryAfterMs?: number } {
  if (err instanceof RetryAfterError) {
    return { error: { code: err.code, message: err.message, retryable: true }, retryAfterMs: err.retryAfterMs };
  }
  if (err instanceof NonRetryableError) return { error: { code: err.code, message: err.message, retryable: false } };
  if (err instanceof ConveyorError && CODE.test(err.code)) {
    return { error: { code: err.code, message: err.message, retryable: err.code !== 'INVALID_INPUT' } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { error: { code: 'HANDLER_ERROR', message: message.slice(0, 10_000), retryable: true } };
}
