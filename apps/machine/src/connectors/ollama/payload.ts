import { z } from 'zod';

const Message = z
  .object({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string(),
    /** Base64 images, for multimodal models. */
    images: z.array(z.string()).optional(),
    thinking: z.string().optional(),
    tool_calls: z.array(z.record(z.unknown())).optional(),
    tool_name: z.string().optional(),
  })
  .strict();

export const OllamaPayload = z
  .object({
    /** `name[:tag]`, e.g. `llama3.2` or `qwen2.5:0.5b` (the tag defaults to `latest`). */
    model: z
      .string({ required_error: 'is required, e.g. "llama3.2"' })
      .min(1, 'must name a model, e.g. "llama3.2"')
      .max(300)
      .regex(/^[A-Za-z0-9][\w.\-/:]*$/, 'must be an Ollama model name such as "llama3.2" or "qwen2.5:0.5b"'),
    messages: z.array(Message, { required_error: 'is required: the conversation so far' }).min(1, 'must hold at least one message'),
    /** Model parameters (temperature, num_predict, num_ctx, ...), passed through. */
    options: z.record(z.unknown()).optional(),
    /** `"json"` or a JSON schema the reply must follow. */
    format: z.union([z.literal('json'), z.record(z.unknown())]).optional(),
    tools: z.array(z.record(z.unknown())).optional(),
    think: z.union([z.boolean(), z.enum(['low', 'medium', 'high'])]).optional(),
    keep_alive: z.union([z.string(), z.number()]).optional(),
    /** Pull the model first when this Ollama does not have it. */
    pull: z.boolean().default(true),
  })
  .strict();
export type OllamaPayload = z.output<typeof OllamaPayload>;

/** One NDJSON line of `/api/chat`; the last has `done: true` and the counters. */
export const ChatLine = z
  .object({
    error: z.string().optional(),
    message: z.object({ role: z.string().optional(), content: z.string().default(''), thinking: z.string().optional(), tool_calls: z.array(z.unknown()).optional() }).optional(),
    done: z.boolean().default(false),
    done_reason: z.string().optional(),
    total_duration: z.number().optional(),
    load_duration: z.number().optional(),
    prompt_eval_count: z.number().optional(),
    eval_count: z.number().optional(),
  })
  .passthrough();

/** One NDJSON line of `/api/pull`. */
export const PullLine = z.object({
  error: z.string().optional(),
  status: z.string().optional(),
  digest: z.string().optional(),
  total: z.number().optional(),
  completed: z.number().optional(),
});
