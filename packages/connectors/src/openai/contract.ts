import { ArtifactRef } from '@conveyor/core/schemas';
import { z } from 'zod';
import { defineContract } from '../contract.ts';

const ChatMessage = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    /** Text, or content parts (`{ type: 'text', text }`, `{ type: 'image_url', ... }`) checked by the API itself. */
    content: z.union([z.string(), z.array(z.record(z.unknown())).min(1)]).nullable(),
    name: z.string().min(1).optional(),
    tool_call_id: z.string().min(1).optional(),
    tool_calls: z.array(z.record(z.unknown())).optional(),
  })
  .strict();

/** OpenAI's `response_format`, as its API defines it (the OpenAI-compatible door `/v1` takes the same). */
export const ResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }).strict(),
  z.object({ type: z.literal('json_object') }).strict(),
  z
    .object({
      type: z.literal('json_schema'),
      json_schema: z
        .object({
          name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"'),
          description: z.string().optional(),
          schema: z.record(z.unknown()).optional(),
          strict: z.boolean().nullable().optional(),
        })
        .strict(),
    })
    .strict(),
]);

export const ChatPayload = z
  .object({
    operation: z.literal('chat'),
    model: z.string().min(1),
    messages: z.array(ChatMessage).min(1, 'must contain at least one message'),
    /** Streamed tokens become partial output in the job's progress. */
    stream: z.boolean().default(true),
    max_tokens: z.number().int().min(1).optional(),
    max_completion_tokens: z.number().int().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    stop: z.union([z.string(), z.array(z.string()).min(1).max(4)]).optional(),
    seed: z.number().int().optional(),
    user: z.string().optional(),
    response_format: ResponseFormat.optional(),
  })
  .strict();
export type ChatPayload = z.output<typeof ChatPayload>;

export const ImagePayload = z
  .object({
    operation: z.literal('image'),
    model: z.string().min(1),
    prompt: z.string().min(1).max(32_000),
    n: z.number().int().min(1).max(10).default(1),
    size: z
      .string()
      .regex(/^(\d{2,5}x\d{2,5}|auto)$/, 'must be WIDTHxHEIGHT (e.g. "1024x1024") or "auto"')
      .optional(),
    quality: z.enum(['standard', 'hd', 'low', 'medium', 'high', 'auto']).optional(),
    style: z.enum(['vivid', 'natural']).optional(),
    /** DALL·E models answer with URLs unless asked for `b64_json`; either way the image is stored as an artifact. */
    response_format: z.enum(['url', 'b64_json']).optional(),
    background: z.enum(['transparent', 'opaque', 'auto']).optional(),
    output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
    user: z.string().optional(),
  })
  .strict();
export type ImagePayload = z.output<typeof ImagePayload>;

export const OpenAIPayload = z.discriminatedUnion('operation', [ChatPayload, ImagePayload]);
export type OpenAIPayload = z.output<typeof OpenAIPayload>;

const ChatResult = z.object({
  id: z.string(),
  model: z.string(),
  content: z.string(),
  finish_reason: z.string().nullable(),
  usage: z.record(z.unknown()).nullable(),
});

const ImageResult = z.object({
  created: z.number(),
  model: z.string(),
  /** Each generated image, stored as `<jobId>/image-<i>.<ext>`. */
  images: z.array(z.object({ artifact: ArtifactRef, revised_prompt: z.string().optional() })),
  usage: z.unknown().optional(),
});

export const OpenAIResult = z.union([ChatResult, ImageResult]);

export const openaiContract = defineContract<OpenAIPayload>({
  name: 'openai',
  kind: 'api',
  summary: 'Chat completions (streamed into progress) and image generation on an OpenAI-compatible API.',
  payload: OpenAIPayload,
  result: OpenAIResult,
  example: { operation: 'chat', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello in French.' }] },
  models: (payload) => [payload.model],
});
