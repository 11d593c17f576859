import { z } from 'zod';
import { defineContract } from '../contract.ts';

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

export const OllamaResult = z.object({
  model: z.string(),
  message: z.object({ role: z.literal('assistant'), content: z.string(), thinking: z.string().optional(), tool_calls: z.array(z.unknown()).optional() }),
  done_reason: z.string().nullable(),
  usage: z.object({
    prompt_eval_count: z.number().optional(),
    eval_count: z.number().optional(),
    total_duration: z.number().optional(),
    load_duration: z.number().optional(),
  }),
  /** Whether the model was pulled for this job. */
  pulled: z.boolean(),
});

export const ollamaContract = defineContract<OllamaPayload>({
  name: 'ollama',
  kind: 'api',
  summary: 'Chats with a model on an Ollama server, pulling the model first when it is missing.',
  payload: OllamaPayload,
  result: OllamaResult,
  example: { model: 'qwen2.5:0.5b', messages: [{ role: 'user', content: 'Why is the sky blue? One sentence.' }] },
  models: (payload) => [payload.model],
});
