import { z } from 'zod';
import { Preferences, Requirements } from './job.ts';

/** One pending index: jobs sharing a service, tenant, requirements and preferred models. `liveWorkers` 0 = nothing can run them. */
export const QueueStat = z.object({
  sig: z.string(),
  spec: z.object({ service: z.string(), tenant: z.string(), requirements: Requirements, prefer: Preferences.optional() }),
  depth: z.number().int(),
  oldestPendingSince: z.number().int(),
  liveWorkers: z.number().int(),
});
export type QueueStat = z.infer<typeof QueueStat>;

export const QueueStats = z.object({
  now: z.number().int(),
  queues: z.array(QueueStat).or(z.object({}).strict().transform(() => [])),
  counts: z.record(z.number().int()),
});
export type QueueStats = z.infer<typeof QueueStats>;
