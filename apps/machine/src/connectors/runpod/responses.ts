import { z } from 'zod';

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
