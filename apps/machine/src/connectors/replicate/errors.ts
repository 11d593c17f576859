import { ConveyorError, NonRetryableError } from '@conveyor/core';
import { httpFailure, type ServiceEndpoint } from '../service-http.ts';

/** What the SDK throws for a non-2xx answer (after its own quick 429 retries); its type is not exported. */
interface SdkApiError extends Error {
  readonly response: Response;
}

function isSdkApiError(err: unknown): err is SdkApiError {
  return err instanceof Error && err.name === 'ApiError' && (err as Partial<SdkApiError>).response instanceof Response;
}

/**
 * The SDK has already read the body into its message ("Request to … failed with status 422 …:
 * {body}."); Replicate's problem details put the useful words in `title` and `detail`.
 */
function problemDetail(message: string): string {
  const body = /: (\{.*\})\.$/s.exec(message)?.[1];
  if (body === undefined) return message;
  try {
    const problem = JSON.parse(body) as { title?: unknown; detail?: unknown };
    const parts = [problem.title, problem.detail].filter((p): p is string => typeof p === 'string' && p !== '');
    return parts.length > 0 ? parts.join(': ') : message;
  } catch {
    return message;
  }
}

/**
 * Maps what the SDK threw to the broker's failure classes: 429/5xx retryable (after Retry-After
 * when sent), 422 (the model rejected its input) and other 4xx final, network failures retryable.
 */
export function classifyReplicateError(err: unknown, service: ServiceEndpoint, what: string): unknown {
  if (isSdkApiError(err)) {
    const detail = problemDetail(err.message);
    if (err.response.status === 422) {
      return new NonRetryableError(`${service.name} ${what} failed with HTTP 422: ${detail}`, `${service.codePrefix}_INVALID_INPUT`, { cause: err });
    }
    return httpFailure(service, err.response, detail, what);
  }
  if (err instanceof TypeError) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return new ConveyorError(`${service.codePrefix}_UNREACHABLE`, `${service.name} at ${service.baseUrl} is unreachable (${cause?.code ?? err.message})`, { cause: err });
  }
  return err;
}
