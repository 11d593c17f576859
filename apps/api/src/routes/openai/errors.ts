import { ConveyorError, type JobError } from '@conveyor/core';
import { toHttpError } from '../../errors.ts';

/** OpenAI's error body: every failure is `{ error: { message, type, param, code } }`. */
export interface OpenAIErrorBody {
  readonly message: string;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
}

/** A failure answered in OpenAI's shape, with the status OpenAI would use. */
export class OpenAIError extends ConveyorError {
  constructor(
    readonly status: number,
    readonly body: OpenAIErrorBody,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super('OPENAI_ERROR', body.message);
  }

  static invalid(message: string, param: string | null, code: string | null = null): OpenAIError {
    return new OpenAIError(400, { message, type: 'invalid_request_error', param, code });
  }

  static modelNotFound(model: string): OpenAIError {
    return new OpenAIError(404, {
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    });
  }
}

/** OpenAI's `type` for each status class of an error raised by the API itself (auth, limits, bad JSON). */
function typeOf(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

const CODES: Readonly<Record<number, string>> = { 401: 'invalid_api_key', 403: 'forbidden', 413: 'request_too_large', 429: 'rate_limit_exceeded' };

/** Any thrown value as OpenAI's error: OpenAIErrors as they are, the API's own errors translated. */
export function toOpenAIError(err: unknown): { error: OpenAIError; internal: boolean } {
  if (err instanceof OpenAIError) return { error: err, internal: false };
  const { status, body, headers, internal } = toHttpError(err);
  // A payload the door built from the request names its fields as the request does.
  const param = body.error.issues[0]?.path.replace(/^(body|payload)\.?/, '') || null;
  const code = CODES[status] ?? body.error.code.toLowerCase();
  return { error: new OpenAIError(status, { message: body.error.message, type: typeOf(status), param, code }, headers), internal };
}

/**
 * A job that did not complete, as the error OpenAI would have answered: the connector's failure
 * code says whether the request was at fault (400), the model unknown upstream (404), the
 * upstream rate limit or quota exhausted (429), or the service failed (502; an upstream that
 * refuses this server's own key is also the server's failure, not the client's).
 */
export function jobFailure(status: 'failed' | 'cancelled', error: JobError | undefined): OpenAIError {
  if (status === 'cancelled') return new OpenAIError(499, { message: 'the request was cancelled', type: 'server_error', param: null, code: 'cancelled' });
  const code = error?.code ?? 'FAILED';
  const message = error?.message ?? 'the model failed to answer';
  if (code === 'INVALID_INPUT' || /_(REJECTED|BAD_REQUEST|UNPROCESSABLE)$/.test(code)) return OpenAIError.invalid(message, null, code.toLowerCase());
  if (code.endsWith('_NOT_FOUND')) return new OpenAIError(404, { message, type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
  if (code.endsWith('_RATE_LIMITED')) return new OpenAIError(429, { message, type: 'requests', param: null, code: 'rate_limit_exceeded' });
  if (code.endsWith('_QUOTA_EXCEEDED')) return new OpenAIError(429, { message, type: 'insufficient_quota', param: null, code: 'insufficient_quota' });
  return new OpenAIError(502, { message, type: 'server_error', param: null, code: code.toLowerCase() });
}
