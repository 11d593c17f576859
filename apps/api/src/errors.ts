import {
  ConveyorError,
  CorruptJobError,
  InvalidStateError,
  JobNotFoundError,
  ReplicationError,
  ValidationError,
  type ValidationIssue,
} from '@conveyor/core';
import type { ZodError } from 'zod';

/** An error with the HTTP status and stable code a client sees; everything a client did wrong is one of these. */
export class ApiError extends ConveyorError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly issues: readonly ValidationIssue[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }

  static invalid(issues: readonly ValidationIssue[], what = 'request'): ApiError {
    const detail = issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
    return new ApiError(400, 'INVALID_INPUT', `invalid ${what}: ${detail}`, issues);
  }

  static fromZod(error: ZodError, what: string, pathPrefix = ''): ApiError {
    return ApiError.invalid(ValidationError.fromZod(error, what, pathPrefix).issues, what);
  }

  static notFound(what: string): ApiError {
    return new ApiError(404, 'NOT_FOUND', `${what} does not exist`);
  }

  static unauthenticated(message: string): ApiError {
    return new ApiError(401, 'UNAUTHENTICATED', message, [], { 'WWW-Authenticate': 'Bearer' });
  }

  static forbidden(message: string): ApiError {
    return new ApiError(403, 'FORBIDDEN', message);
  }

  static rateLimited(message: string, retryAfterSeconds: number): ApiError {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    return new ApiError(429, 'RATE_LIMITED', message, [], { 'Retry-After': String(seconds) });
  }
}

export interface ErrorBody {
  error: { code: string; message: string; issues: ValidationIssue[] };
}

/** Fastify's own client-error codes, mapped to the status and code this API documents. */
const FRAMEWORK_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'PAYLOAD_TOO_LARGE'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'BAD_CONTENT_LENGTH'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'BAD_JSON'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'BAD_JSON'],
  FST_ERR_BAD_URL: [400, 'BAD_URL'],
  FST_ERR_MAX_PARAM_LENGTH: [400, 'PARAM_TOO_LONG'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'BAD_REQUEST'],
};

/** Turns any thrown value into the status and JSON body sent; unknown errors are the only 500s. */
export function toHttpError(err: unknown): { status: number; body: ErrorBody; headers: Record<string, string>; internal: boolean } {
  const body = (code: string, message: string, issues: readonly ValidationIssue[] = []): ErrorBody => ({
    error: { code, message, issues: [...issues] },
  });
  if (err instanceof ApiError) return { status: err.status, body: body(err.code, err.message, err.issues), headers: { ...err.headers }, internal: false };
  if (err instanceof ValidationError) return { status: 400, body: body(err.code, err.message, err.issues), headers: {}, internal: false };
  if (err instanceof JobNotFoundError) return { status: 404, body: body('NOT_FOUND', err.message), headers: {}, internal: false };
  if (err instanceof InvalidStateError) return { status: 409, body: body(err.code, err.message), headers: {}, internal: false };
  if (err instanceof CorruptJobError) return { status: 500, body: body(err.code, err.message), headers: {}, internal: true };
  // Written to the primary, not confirmed by a replica: the client retries with its idempotency key.
  if (err instanceof ReplicationError) return { status: 503, body: body(err.code, err.message), headers: { 'retry-after': '1' }, internal: false };
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; name?: unknown };
  const known = typeof e.code === 'string' ? FRAMEWORK_ERRORS[e.code] : undefined;
  const message = typeof e.message === 'string' ? e.message : 'request failed';
  if (known) return { status: known[0], body: body(known[1], message), headers: {}, internal: false };
  // A JSON syntax error from the body parser arrives as a 400 SyntaxError without a code.
  if (e.name === 'SyntaxError' || (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)) {
    const status = typeof e.statusCode === 'number' ? e.statusCode : 400;
    return { status, body: body(status === 400 ? 'BAD_REQUEST' : `HTTP_${status}`, message), headers: {}, internal: false };
  }
  return { status: 500, body: body('INTERNAL', 'internal error; it has been logged'), headers: {}, internal: true };
}
