import type { ServerResponse } from 'node:http';
import { retryHeaders, type Fault } from '../faults.ts';

/** Replicate answers errors as RFC 7807 problem details: `{ title, detail, status }`. */
export function sendProblem(
  res: ServerResponse,
  status: number,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify({ title, detail, status, ...extra });
  res.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

export function sendFaultProblem(res: ServerResponse, fault: Fault): void {
  const headers = retryHeaders(fault);
  if (fault.status === 429) {
    const wait = fault.retryAfterSeconds ?? 1;
    sendProblem(res, 429, 'Request was throttled.', fault.message ?? `Request was throttled. Expected available in ${wait} second${wait === 1 ? '' : 's'}.`, {}, headers);
  } else if (fault.status >= 500) {
    sendProblem(res, fault.status, 'Internal Server Error', fault.message ?? 'An unexpected error occurred.', {}, headers);
  } else if (fault.status === 401) {
    sendProblem(res, 401, 'Unauthenticated', 'You did not pass a valid authentication token', {}, headers);
  } else {
    sendProblem(res, fault.status, 'Request failed', fault.message ?? 'The request could not be processed.', {}, headers);
  }
}
