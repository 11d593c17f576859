import { z } from 'zod';
import { Requirements } from './job.ts';
import { ServiceName } from './names.ts';

/** One pending index: jobs sharing a service, tenant and requirements. `liveWorkers` 0 = nothing can run them. */
export const QueueStat = z.object({
  sig: z.string(),
  spec: z.object({ service: z.string(), tenant: z.string(), requirements: Requirements }),
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

/** A service's live workers and since when its next jobs have waited (absent: nothing waits). See service_demand.lua. */
export const ServiceDemand = z.object({
  service: ServiceName,
  liveWorkers: z.number().int(),
  waitingSince: z.number().int().optional(),
});
export type ServiceDemand = z.infer<typeof ServiceDemand>;

export const ServiceDemands = z.object({
  now: z.number().int(),
  services: z.array(ServiceDemand).or(z.object({}).strict().transform(() => [])),
});
export type ServiceDemands = z.infer<typeof ServiceDemands>;
