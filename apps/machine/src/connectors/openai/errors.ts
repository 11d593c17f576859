import { ConveyorError, NonRetryableError, RetryAfterError } from '@conveyor/core';
import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { retryAfterMs } from '../service-http.ts';

/** OpenAI's own `retry-after-ms` is finer than the standard `Retry-After`, so it wins when both are sent. */
function openAIRetryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  return headers ? retryAfterMs(headers) : undefined;
}

const FINAL_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'OPENAI_BAD_REQUEST',
  401: 'OPENAI_UNAUTHORIZED',
  403: 'OPENAI_FORBIDDEN',
  404: 'OPENAI_NOT_FOUND',
  422: 'OPENAI_UNPROCESSABLE',
};

/**
 * Maps what the SDK threw to the broker's failure classes. Retries are the broker's job (the SDK
 * runs with `maxRetries: 0`), so the server's Retry-After travels on as a `RetryAfterError`.
 * 429 `insufficient_quota` is final: retrying cannot add credit. Other 4xx are final too.
 */
export function classifyOpenAIError(err: unknown): unknown {
  if (err instanceof APIUserAbortError || !(err instanceof Error)) return err;
  if (err instanceof APIConnectionError) {
    return new ConveyorError('OPENAI_UNREACHABLE', `OpenAI API unreachable: ${err.message}`, { cause: err });
  }
  if (!(err instanceof APIError)) return err;
  const status = err.status;
  const detail = [err.type, err.code].filter(Boolean).join('/');
  const message = `OpenAI API ${detail ? `(${detail}) ` : ''}${err.message}`;
  if (status === undefined) {
    // An error event inside a stream that had already answered 200.
    return new ConveyorError('OPENAI_STREAM_ERROR', message, { cause: err });
  }
  if (status === 429 && err.code === 'insufficient_quota') return new NonRetryableError(message, 'OPENAI_QUOTA_EXCEEDED', { cause: err });
  if (status === 429 || status === 408 || status === 409 || status >= 500) {
    const code = status === 429 ? 'OPENAI_RATE_LIMITED' : 'OPENAI_UNAVAILABLE';
    const wait = openAIRetryAfterMs(err.headers);
    return wait === undefined ? new ConveyorError(code, message, { cause: err }) : new RetryAfterError(message, wait, code, { cause: err });
  }
  return new NonRetryableError(message, FINAL_BY_STATUS[status] ?? 'OPENAI_REJECTED', { cause: err });
}
