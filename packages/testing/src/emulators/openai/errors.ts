import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { retryHeaders, type Fault } from '../faults.ts';
import { sendJson } from '../http-server.ts';

/** The `{ error: { message, type, param, code } }` body OpenAI answers every failure with. */
export interface OpenAIErrorBody {
  readonly message: string;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
}

export function requestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

export function sendError(res: ServerResponse, status: number, error: OpenAIErrorBody, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error }, { 'x-request-id': requestId(), ...headers });
}

export function invalidRequest(res: ServerResponse, message: string, param: string | null, code: string | null = null): void {
  sendError(res, 400, { message, type: 'invalid_request_error', param, code });
}

export function modelNotFound(res: ServerResponse, model: string): void {
  sendError(res, 404, {
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    type: 'invalid_request_error',
    param: null,
    code: 'model_not_found',
  });
}

export function invalidApiKey(res: ServerResponse, given: string | undefined): void {
  const shown = given ? `${given.slice(0, 3)}*****${given.slice(-4)}` : '';
  sendError(res, 401, {
    message: given
      ? `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    type: 'invalid_request_error',
    param: null,
    code: given ? 'invalid_api_key' : null,
  });
}

/** Answers with an injected fault, in the body and headers OpenAI uses for that status. */
export function sendFault(res: ServerResponse, fault: Fault): void {
  const headers = retryHeaders(fault);
  if (fault.status === 429) {
    sendError(
      res,
      429,
      fault.code === 'insufficient_quota'
        ? {
            message: fault.message ?? 'You exceeded your current quota, please check your plan and billing details.',
            type: 'insufficient_quota',
            param: null,
            code: 'insufficient_quota',
          }
        : { message: fault.message ?? 'Rate limit reached for requests. Please try again later.', type: 'requests', param: null, code: fault.code ?? 'rate_limit_exceeded' },
      headers,
    );
  } else if (fault.status >= 500) {
    sendError(
      res,
      fault.status,
      { message: fault.message ?? 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null },
      headers,
    );
  } else if (fault.status === 401) {
    invalidApiKey(res, 'sk-revoked-key');
  } else if (fault.status === 404) {
    modelNotFound(res, fault.message ?? 'unknown-model');
  } else {
    sendError(res, fault.status, { message: fault.message ?? 'Invalid request.', type: 'invalid_request_error', param: null, code: null }, headers);
  }
}
