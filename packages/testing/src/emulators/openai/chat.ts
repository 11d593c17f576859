import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { pause, sendJson } from '../http-server.ts';
import { invalidRequest, requestId } from './errors.ts';

export interface ChatMessage {
  readonly role: string;
  readonly content: unknown;
}

/** What a test can vary per request: the assistant's text. */
export type ReplyFn = (request: { model: string; messages: readonly ChatMessage[] }) => string;

export interface ChatSettings {
  readonly reply: ReplyFn;
  /** Delay before each streamed token, so a test can cancel mid-stream. */
  readonly tokenDelayMs: number;
  /** When set, the next stream is cut (socket destroyed, no [DONE]) after this many tokens. */
  takeStreamCut(): number | undefined;
  onStreamAborted(): void;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (part && typeof part === 'object' && 'text' in part ? String(part.text) : '')).join(' ');
  }
  return '';
}

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

export const defaultReply: ReplyFn = ({ messages }) => {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  return `You said: ${textOf(lastUser?.content)}`;
};

/** Checks a request body the way the API does, answering 400 naming the `param`; null when answered. */
export function checkChatBody(res: ServerResponse, body: Record<string, unknown>): { model: string; messages: ChatMessage[] } | null {
  const { model, messages, max_tokens: maxTokens, temperature } = body;
  if (typeof model !== 'string' || model === '') {
    invalidRequest(res, 'you must provide a model parameter', null);
    return null;
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    invalidRequest(res, "[] is too short - 'messages'", 'messages', 'empty_array');
    return null;
  }
  for (const [i, m] of messages.entries()) {
    if (!m || typeof m !== 'object' || !ROLES.has(String((m as ChatMessage).role))) {
      invalidRequest(res, `Invalid value for 'messages[${i}].role'.`, `messages[${i}].role`, 'invalid_value');
      return null;
    }
  }
  if (maxTokens !== undefined && maxTokens !== null && !(Number.isInteger(maxTokens) && (maxTokens as number) >= 1)) {
    invalidRequest(res, `Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got ${String(maxTokens)} instead.`, 'max_tokens', 'integer_below_min_value');
    return null;
  }
  if (temperature !== undefined && temperature !== null && !(typeof temperature === 'number' && temperature >= 0 && temperature <= 2)) {
    invalidRequest(res, `Invalid 'temperature': expected a number between 0 and 2, but got ${String(temperature)} instead.`, 'temperature', 'invalid_value');
    return null;
  }
  return { model, messages: messages as ChatMessage[] };
}

/** Splits text the way a tokenizer streams it: each word with its leading whitespace. */
function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** Answers one chat completion, streamed as SSE chunks ending in `data: [DONE]` or as one JSON object. */
export async function answerChat(
  res: ServerResponse,
  body: Record<string, unknown>,
  request: { model: string; messages: ChatMessage[] },
  settings: ChatSettings,
): Promise<void> {
  const id = `chatcmpl-${randomBytes(12).toString('base64url')}`;
  const created = Math.floor(Date.now() / 1000);
  const all = tokenize(settings.reply(request));
  const cap = body.max_completion_tokens ?? body.max_tokens;
  const limit = typeof cap === 'number' ? cap : Infinity;
  const tokens = all.slice(0, limit);
  const finishReason = tokens.length < all.length ? 'length' : 'stop';
  const promptTokens = request.messages.reduce((n, m) => n + words(textOf(m.content)), 0);
  const usage = { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length };
  const base = { id, object: 'chat.completion.chunk', created, model: request.model, system_fingerprint: 'fp_emulator' };

  if (body.stream !== true) {
    sendJson(
      res,
      200,
      {
        id,
        object: 'chat.completion',
        created,
        model: request.model,
        system_fingerprint: 'fp_emulator',
        choices: [{ index: 0, message: { role: 'assistant', content: tokens.join(''), refusal: null }, logprobs: null, finish_reason: finishReason }],
        usage,
      },
      { 'x-request-id': requestId() },
    );
    return;
  }

  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const cutAfter = settings.takeStreamCut();
  const send = (chunk: object) => res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  const usageField = includeUsage ? { usage: null } : {};
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': requestId() });
  send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], ...usageField });
  for (const [i, token] of tokens.entries()) {
    if (cutAfter !== undefined && i >= cutAfter) {
      res.destroy();
      return;
    }
    if (!(await pause(settings.tokenDelayMs, res))) {
      settings.onStreamAborted();
      return;
    }
    send({ ...base, choices: [{ index: 0, delta: { content: token }, logprobs: null, finish_reason: null }], ...usageField });
  }
  send({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }], ...usageField });
  if (includeUsage) send({ ...base, choices: [], usage });
  res.end('data: [DONE]\n\n');
}
