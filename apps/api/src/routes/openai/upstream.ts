import { z } from 'zod';
import { OpenAIError } from './errors.ts';
import type { LlmService, ModelRoute } from './models.ts';
import { textOf, type ChatRequest } from './request.ts';

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** What a finished job answered, in chat-completion terms. */
export interface Reply {
  readonly content: string;
  readonly finishReason: string;
  readonly usage?: Usage;
}

const RUNPOD_OPENAI_ROUTE = '/v1/chat/completions';

const OpenAIUsage = z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() });

function samplingOf(request: ChatRequest) {
  const { max_tokens, max_completion_tokens, temperature, top_p, frequency_penalty, presence_penalty, stop, seed, user, response_format } = request;
  return { max_tokens, max_completion_tokens, temperature, top_p, frequency_penalty, presence_penalty, stop, seed, user, response_format };
}

/** Ollama takes plain text messages and calls the developer role system. */
function ollamaMessages(request: ChatRequest) {
  return request.messages.map((m, i) => {
    const content = textOf(m.content);
    if (content === undefined) throw OpenAIError.invalid(`model ${request.model} takes text content only`, `messages[${i}].content`, 'invalid_value');
    return { role: m.role === 'developer' ? 'system' : m.role, content };
  });
}

function ollamaFormat(format: ChatRequest['response_format']): string | Record<string, unknown> | undefined {
  if (format?.type === 'json_object') return 'json';
  if (format?.type === 'json_schema') return format.json_schema.schema ?? 'json';
  return undefined;
}

/**
 * The job payload that asks a connector for this chat completion. Upstream streaming is always on
 * (the openai connector's default), so partial text reaches the job's progress as it is generated.
 * RunPod endpoints get the OpenAI request in the `openai_route`/`openai_input` form RunPod's
 * OpenAI-compatible workers take.
 */
export function payloadFor(route: ModelRoute, request: ChatRequest): unknown {
  switch (route.service) {
    case 'openai':
      return { operation: 'chat', model: route.target, messages: request.messages, stream: true, ...samplingOf(request) };
    case 'ollama': {
      const options = {
        temperature: request.temperature,
        top_p: request.top_p,
        num_predict: request.max_completion_tokens ?? request.max_tokens,
        stop: typeof request.stop === 'string' ? [request.stop] : request.stop,
        seed: request.seed,
        frequency_penalty: request.frequency_penalty,
        presence_penalty: request.presence_penalty,
      };
      const format = ollamaFormat(request.response_format);
      return { model: route.target, messages: ollamaMessages(request), options, ...(format === undefined ? {} : { format }) };
    }
    case 'runpod':
      return {
        endpointId: route.target,
        input: { openai_route: RUNPOD_OPENAI_ROUTE, openai_input: { model: route.model, messages: request.messages, stream: request.stream ?? false, ...samplingOf(request) } },
      };
  }
}

/**
 * The text in a RunPod handler's output or stream chunk: a string, OpenAI-shaped choices
 * (`delta.content`, `message.content`, `text`, or vLLM's `tokens`), a `text` field, or a list of these.
 */
export function textOfOutput(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOfOutput).join('');
  if (typeof value !== 'object' || value === null) return '';
  const o = value as Record<string, unknown>;
  if (Array.isArray(o.choices)) {
    const choice = (o.choices[0] ?? {}) as Record<string, { content?: unknown } | unknown>;
    const delta = choice.delta as { content?: unknown } | undefined;
    const message = choice.message as { content?: unknown } | undefined;
    return textOfOutput(delta?.content ?? message?.content ?? choice.text ?? choice.tokens ?? '');
  }
  if ('text' in o) return textOfOutput(o.text);
  if ('output' in o) return textOfOutput(o.output);
  return '';
}

/** A RunPod output's OpenAI-shaped usage, when it carries one (directly or in its first element). */
function usageOfOutput(value: unknown): Usage | undefined {
  const candidate = Array.isArray(value) ? value[0] : value;
  const parsed = OpenAIUsage.safeParse((candidate as { usage?: unknown } | null)?.usage);
  return parsed.success ? parsed.data : undefined;
}

const OpenAIResult = z.object({ content: z.string(), finish_reason: z.string().nullable(), usage: OpenAIUsage.nullable().optional() });
const OllamaResult = z.object({
  message: z.object({ content: z.string() }),
  done_reason: z.string().nullable(),
  usage: z.object({ prompt_eval_count: z.number().optional(), eval_count: z.number().optional() }).optional(),
});
const RunPodResult = z.object({ output: z.unknown() });

/** The reply in a completed job's result, per connector; a result of another shape is a 502. */
export function replyOf(service: LlmService, result: unknown): Reply {
  const bad = () => new OpenAIError(502, { message: `the ${service} worker answered with a result that is not a chat reply`, type: 'server_error', param: null, code: 'bad_upstream_result' });
  switch (service) {
    case 'openai': {
      const r = OpenAIResult.safeParse(result);
      if (!r.success) throw bad();
      return { content: r.data.content, finishReason: r.data.finish_reason ?? 'stop', ...(r.data.usage ? { usage: r.data.usage } : {}) };
    }
    case 'ollama': {
      const r = OllamaResult.safeParse(result);
      if (!r.success) throw bad();
      const prompt = r.data.usage?.prompt_eval_count ?? 0;
      const completion = r.data.usage?.eval_count ?? 0;
      return {
        content: r.data.message.content,
        finishReason: r.data.done_reason === 'length' ? 'length' : 'stop',
        usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      };
    }
    case 'runpod': {
      const r = RunPodResult.safeParse(result);
      if (!r.success) throw bad();
      const usage = usageOfOutput(r.data.output);
      return { content: textOfOutput(r.data.output), finishReason: 'stop', ...(usage ? { usage } : {}) };
    }
  }
}

/**
 * Follows the partial text of one attempt through its progress reports: openai and ollama report
 * the whole text so far (`data.partial`), the runpod connector each read's new chunks (`data.stream`).
 */
export class PartialText {
  private text = '';

  constructor(private readonly service: LlmService) {}

  /** A new attempt starts from nothing. */
  restart(): void {
    this.text = '';
  }

  /** The attempt's text so far after this progress report. */
  update(data: unknown): string {
    const d = (data ?? {}) as { partial?: unknown; stream?: unknown };
    if (this.service === 'runpod') {
      if (Array.isArray(d.stream)) this.text += textOfOutput(d.stream);
    } else if (typeof d.partial === 'string') {
      this.text = d.partial;
    }
    return this.text;
  }
}
