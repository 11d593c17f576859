import { ResponseFormat } from '@conveyor/connectors';
import { z } from 'zod';
import { OpenAIError } from './errors.ts';

/** OpenAI accepts `null` for every optional parameter; here null and absent are the same. */
const opt = <T extends z.ZodTypeAny>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

const ContentPart = z
  .object({ type: z.string() })
  .passthrough()
  .refine((p) => p.type !== 'text' || typeof p.text === 'string', 'a text part needs a string "text"');

const Message = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([z.string(), z.array(ContentPart).min(1)]).nullable(),
    name: opt(z.string().min(1)),
    tool_call_id: opt(z.string().min(1)),
  })
  .strict();
export type ChatMessage = z.output<typeof Message>;

/**
 * The parameters of `POST /v1/chat/completions` this door can honour with every LLM connector.
 * Other top-level fields are ignored, as vLLM, llama.cpp and Ollama's OpenAI endpoints do: voice
 * agents and gateways add their own (`call`, `metadata`, `elevenlabs_extra_body`, …) to the body
 * they send a custom-LLM URL. Fields that would change what the model does are refused (UNSUPPORTED).
 */
export const ChatRequest = z
  .object({
    model: z.string({ required_error: 'you must provide a model parameter' }).min(1, 'you must provide a model parameter'),
    messages: z.array(Message, { required_error: 'is required' }).min(1, 'must contain at least one message'),
    stream: opt(z.boolean()),
    stream_options: opt(z.object({ include_usage: opt(z.boolean()) }).strict()),
    max_tokens: opt(z.number().int().min(1)),
    max_completion_tokens: opt(z.number().int().min(1)),
    temperature: opt(z.number().min(0).max(2)),
    top_p: opt(z.number().min(0).max(1)),
    frequency_penalty: opt(z.number().min(-2).max(2)),
    presence_penalty: opt(z.number().min(-2).max(2)),
    stop: opt(z.union([z.string(), z.array(z.string()).min(1).max(4)])),
    seed: opt(z.number().int()),
    user: opt(z.string()),
    response_format: opt(ResponseFormat),
    n: opt(z.literal(1, { errorMap: () => ({ message: 'only n=1 is supported' }) })),
  })
  .strip();
export type ChatRequest = z.output<typeof ChatRequest>;

/**
 * Parameters OpenAI has that no connector here can carry out, refused rather than silently ignored:
 * a model never told of its tools would answer as if it had none. `null` counts as absent.
 */
const UNSUPPORTED: readonly string[] = ['tools', 'tool_choice', 'functions', 'function_call', 'logprobs', 'top_logprobs', 'audio', 'modalities', 'prediction', 'logit_bias'];

/** `messages.0.content` → `messages[0].content`, as OpenAI names parameters in its errors. */
function paramOf(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Validates a request body, answering the first problem as OpenAI does: a 400 naming the parameter. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw OpenAIError.invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.', null);
  }
  const unsupported = UNSUPPORTED.find((key) => (body as Record<string, unknown>)[key] != null);
  if (unsupported) throw OpenAIError.invalid(`'${unsupported}' is not supported by this server's chat completions`, unsupported, 'unsupported_parameter');
  const parsed = ChatRequest.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.ZodIssue;
  if (issue.code === 'unrecognized_keys') {
    const param = paramOf([...issue.path, issue.keys[0] ?? '']);
    throw OpenAIError.invalid(`Unrecognized request argument supplied: ${param}`, param, 'unknown_parameter');
  }
  const param = paramOf(issue.path);
  throw OpenAIError.invalid(`Invalid value for '${param}': ${issue.message}`, param, issue.code === 'invalid_type' ? 'invalid_type' : 'invalid_value');
}

/** The text of a message's content (text parts joined); undefined when it holds parts that are not text. */
export function textOf(content: ChatMessage['content']): string | undefined {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  if (content.some((p) => p.type !== 'text')) return undefined;
  return content.map((p) => String(p.text)).join('');
}
