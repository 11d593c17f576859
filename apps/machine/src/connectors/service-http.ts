import { ConveyorError, NonRetryableError, RetryAfterError } from '@conveyor/core';
import type { ZodType, ZodTypeDef } from 'zod';

/** A server asking for more than this is treated as asking for this: the job's own timeout still applies. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * One remote service a connector talks to over HTTP: where it is, how it is named in errors
 * (`RunPod`, `RUNPOD_...`), and headers every request carries (auth).
 */
export interface ServiceEndpoint {
  readonly baseUrl: string;
  readonly name: string;
  readonly codePrefix: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Seconds or an HTTP date in `Retry-After`, as milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim() ?? '';
  let wait: number | undefined;
  if (/^\d+(\.\d+)?$/.test(value)) wait = Number.parseFloat(value) * 1000;
  else if (value !== '' && Number.isFinite(Date.parse(value))) wait = Math.max(0, Date.parse(value) - now);
  return wait === undefined ? undefined : Math.min(Math.ceil(wait), MAX_RETRY_AFTER_MS);
}

/** The most useful text of an error response: its JSON `error` (string or `{message}`) or the raw body. */
export async function errorDetail(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const error = body.error as { message?: unknown } | string | undefined;
    if (typeof error === 'string') return error;
    if (typeof error?.message === 'string') return error.message;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: the text itself is the detail.
  }
  return text.trim().slice(0, 500) || res.statusText;
}

/**
 * Classifies an HTTP failure: 429, 408 and 5xx are worth another attempt (after the server's
 * Retry-After when it sent one); 401/403 mean a bad key and other 4xx a bad request, which no
 * retry fixes.
 */
export function httpFailure(service: ServiceEndpoint, res: Response, detail: string, what: string): Error {
  const message = `${service.name} ${what} failed with HTTP ${res.status}: ${detail}`;
  const prefix = service.codePrefix;
  if (res.status === 429 || res.status === 408 || res.status >= 500) {
    const code = res.status === 429 ? `${prefix}_RATE_LIMITED` : `${prefix}_UNAVAILABLE`;
    const wait = retryAfterMs(res.headers);
    return wait === undefined ? new ConveyorError(code, message) : new RetryAfterError(message, wait, code);
  }
  if (res.status === 401 || res.status === 403) return new NonRetryableError(message, `${prefix}_UNAUTHORIZED`);
  if (res.status === 404) return new NonRetryableError(message, `${prefix}_NOT_FOUND`);
  return new NonRetryableError(message, `${prefix}_REJECTED`);
}

/**
 * Sends one request. A network failure (refused, reset, DNS) is a retryable `<PREFIX>_UNREACHABLE`;
 * an abort by `signal` is rethrown as is, so the worker sees the cancellation. The response is
 * returned whatever its status: callers decide what a 404 means for them.
 */
export async function callService(
  service: ServiceEndpoint,
  path: string,
  init: { method?: string; body?: unknown; signal: AbortSignal },
): Promise<Response> {
  const url = `${service.baseUrl}${path}`;
  const headers: Record<string, string> = { accept: 'application/json', ...service.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await fetch(url, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  } catch (err) {
    if (init.signal.aborted) throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new ConveyorError(`${service.codePrefix}_UNREACHABLE`, `${service.name} at ${service.baseUrl} is unreachable (${why})`, { cause: err });
  }
}

/** Calls the service and checks a 2xx JSON answer against `schema`; any other status becomes a classified failure. */
export async function callJson<T>(
  service: ServiceEndpoint,
  path: string,
  init: { method?: string; body?: unknown; signal: AbortSignal },
  what: string,
  schema: ZodType<T, ZodTypeDef, unknown>,
): Promise<T> {
  const res = await callService(service, path, init);
  if (!res.ok) throw httpFailure(service, res, await errorDetail(res), what);
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    if (init.signal.aborted) throw err;
    throw new ConveyorError(`${service.codePrefix}_BAD_RESPONSE`, `${service.name} ${what} answered with a body that is not JSON`, { cause: err });
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(body)';
    throw new ConveyorError(`${service.codePrefix}_BAD_RESPONSE`, `${service.name} ${what} answered with an unexpected body: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
