import type { OllamaPayload } from '@conveyor/connectors';
import { ConveyorError, type ConnectorContext } from '@conveyor/core';
import { callService, errorDetail, httpFailure, type ServiceEndpoint } from '../service-http.ts';
import { ndjson } from './ndjson.ts';
import { ChatLine } from './responses.ts';

const REPORT_EVERY_MS = 100;
/** Tokens at which an uncapped reply shows half its share: with no known length, percent approaches 99. */
const HALF_WAY_TOKENS = 100;

export interface ChatResult {
  readonly model: string;
  readonly message: { role: 'assistant'; content: string; thinking?: string; tool_calls?: unknown[] };
  readonly done_reason: string | null;
  readonly usage: { prompt_eval_count?: number; eval_count?: number; total_duration?: number; load_duration?: number };
}

/** The model is not on this Ollama (HTTP 404): the caller may pull it and ask again. */
export class ModelMissing {
  constructor(readonly detail: string) {}
}

/**
 * One streamed chat. Each token is appended to the reply, which travels (throttled) as progress
 * `data.partial`, from `from` up to 99 %. An error line mid-stream, or a stream that ends without
 * `done`, is retryable.
 */
export async function streamChat(service: ServiceEndpoint, payload: OllamaPayload, from: number, ctx: ConnectorContext): Promise<ChatResult | ModelMissing> {
  const { pull: _pull, ...request } = payload;
  const res = await callService(service, '/api/chat', { body: { ...request, stream: true }, signal: ctx.signal });
  if (res.status === 404) return new ModelMissing(await errorDetail(res));
  if (!res.ok) throw httpFailure(service, res, await errorDetail(res), `chat with ${payload.model}`);
  await ctx.progress({ percent: from, message: `generating with ${payload.model}` });
  const cap = typeof payload.options?.num_predict === 'number' && payload.options.num_predict > 0 ? payload.options.num_predict : undefined;
  let content = '';
  let thinking = '';
  const toolCalls: unknown[] = [];
  let tokens = 0;
  let lastReport = 0;
  for await (const line of ndjson(res, ChatLine)) {
    if (line.error !== undefined) throw new ConveyorError('OLLAMA_STREAM_ERROR', `Ollama stopped mid-reply: ${line.error}`);
    content += line.message?.content ?? '';
    thinking += line.message?.thinking ?? '';
    toolCalls.push(...(line.message?.tool_calls ?? []));
    if (line.done) {
      return {
        model: payload.model,
        message: { role: 'assistant', content, ...(thinking ? { thinking } : {}), ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
        done_reason: line.done_reason ?? null,
        usage: { prompt_eval_count: line.prompt_eval_count, eval_count: line.eval_count, total_duration: line.total_duration, load_duration: line.load_duration },
      };
    }
    tokens += 1;
    if (Date.now() - lastReport < REPORT_EVERY_MS) continue;
    lastReport = Date.now();
    const share = cap ? Math.min(1, tokens / cap) : tokens / (tokens + HALF_WAY_TOKENS);
    const percent = Math.min(99, Math.floor(from + (99 - from) * share));
    await ctx.progress({ percent, message: `${tokens} tokens received`, data: { partial: content } });
  }
  throw new ConveyorError('OLLAMA_STREAM_ERROR', `the reply from ${payload.model} ended before "done"`);
}
