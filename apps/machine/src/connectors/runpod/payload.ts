import { z } from 'zod';

export const RunPodPayload = z
  .object({
    /** The serverless endpoint's id, as in `https://api.runpod.ai/v2/<endpointId>/run`. */
    endpointId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be a RunPod endpoint id such as "abc123xyz" (letters, digits, - and _)'),
    /** Passed to the endpoint's handler unchanged, as the request's `input`. */
    input: z.record(z.unknown(), { invalid_type_error: 'must be an object (the handler input)' }),
    /** Sent as RunPod's `policy.executionTimeout`: RunPod stops the job (TIMED_OUT) after this long running. */
    timeoutMs: z.number().int().min(1000, 'must be at least 1000 ms').max(7 * 24 * 3_600_000, 'must be at most 7 days').optional(),
  })
  .strict();
export type RunPodPayload = z.output<typeof RunPodPayload>;

/** The `/status` answer, with only what the connector reads checked. */
export const RunPodStatus = z.object({
  id: z.string(),
  status: z.enum(['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT']),
  delayTime: z.number().optional(),
  executionTime: z.number().optional(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
});
export type RunPodStatus = z.output<typeof RunPodStatus>;

/** The `/stream` answer: chunks yielded since the last read. */
export const RunPodStream = z.object({
  status: z.string(),
  stream: z.array(z.object({ output: z.unknown() })).default([]),
});

export const RunPodSubmitted = z.object({ id: z.string().min(1), status: z.string() });
