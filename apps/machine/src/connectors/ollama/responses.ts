import { z } from 'zod';

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
