import { ConveyorError, type ConnectorContext } from '@conveyor/core';
import { APIError, type OpenAI } from 'openai';
import type { ChatCompletionCreateParamsBase, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ChatPayload } from '@conveyor/connectors';

/** Streamed progress is reported at most this often: each report is a Redis round trip. */
const PROGRESS_INTERVAL_MS = 100;

/** Tokens at which an uncapped stream shows 50%: with no known total, percent approaches 99. */
const HALF_WAY_TOKENS = 100;

export interface ChatResult {
  readonly id: string;
  readonly model: string;
  readonly content: string;
  readonly finish_reason: string | null;
  readonly usage: OpenAI.CompletionUsage | null;
}

function streamPercent(tokens: number, cap: number | undefined): number {
  const share = cap ? tokens / cap : tokens / (tokens + HALF_WAY_TOKENS);
  return Math.min(99, Math.floor(share * 100));
}

function requestOf(payload: ChatPayload): ChatCompletionCreateParamsBase {
  const { operation: _operation, stream: _stream, messages, ...options } = payload;
  // Message shapes were checked by the payload schema; content parts are checked by the API itself.
  return { ...options, messages: messages as ChatCompletionMessageParam[] };
}

/**
 * One chat completion. Streamed: every delta is appended to the partial text, which travels in
 * progress `data.partial` (throttled); a stream that ends without a finish reason was cut off and
 * is retryable. Not streamed: one request, one answer.
 */
export async function runChat(client: OpenAI, payload: ChatPayload, ctx: ConnectorContext): Promise<ChatResult> {
  const { signal } = ctx;
  const request = requestOf(payload);
  await ctx.progress({ percent: 0, message: `waiting for ${payload.model}` });

  if (!payload.stream) {
    const completion = await client.chat.completions.create({ ...request, stream: false }, { signal });
    const choice = completion.choices[0];
    await ctx.progress({ percent: 100, message: 'completed' });
    return {
      id: completion.id,
      model: completion.model,
      content: choice?.message.content ?? '',
      finish_reason: choice?.finish_reason ?? null,
      usage: completion.usage ?? null,
    };
  }

  const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } }, { signal });
  const cap = payload.max_completion_tokens ?? payload.max_tokens;
  let id = '';
  let model = payload.model;
  let content = '';
  let tokens = 0;
  let finishReason: string | null = null;
  let usage: OpenAI.CompletionUsage | null = null;
  let reportedAt = 0;
  try {
    for await (const chunk of stream) {
      id = chunk.id;
      model = chunk.model;
      usage = chunk.usage ?? usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.delta.content) {
        content += choice.delta.content;
        tokens += 1;
      }
      finishReason = choice.finish_reason ?? finishReason;
      if (Date.now() - reportedAt >= PROGRESS_INTERVAL_MS) {
        reportedAt = Date.now();
        await ctx.progress({ percent: streamPercent(tokens, cap), message: `${tokens} tokens received`, data: { partial: content } });
      }
    }
  } catch (err) {
    // A dropped connection mid-stream surfaces as a bare fetch error; name it so the retry is explained.
    if (signal.aborted || err instanceof APIError || err instanceof ConveyorError) throw err;
    throw new ConveyorError('OPENAI_STREAM_INTERRUPTED', `stream from ${payload.model} broke after ${tokens} tokens: ${String(err)}`, { cause: err });
  }
  // The SDK ends iteration quietly when aborted; the worker needs the abort to surface.
  signal.throwIfAborted();
  if (finishReason === null) {
    throw new ConveyorError('OPENAI_STREAM_INCOMPLETE', `stream from ${payload.model} ended after ${tokens} tokens without a finish reason`);
  }
  await ctx.progress({ percent: 100, message: `completed (${finishReason})`, data: { partial: content } });
  return { id, model, content, finish_reason: finishReason, usage };
}
