import { z } from 'zod';
import { Preferences, Requirements } from './job.ts';
import { ServiceName } from './names.ts';

/** One pending index: jobs sharing a service, tenant, requirements and preferred models. `liveWorkers` 0 = nothing can run them. */
export const QueueStat = z.object({
  sig: z.string(),
  spec: z.object({ service: z.string(), tenant: z.string(), requirements: Requirements, prefer: Preferences.optional() }),
  depth: z.number().int(),
  oldestPendingSince: z.number().int(),
  liveWorkers: z.number().int(),
});
export type QueueStat = z.infer<typeof QueueStat>;

/** An empty Lua table comes back from cjson as `{}`: read it as an empty list. */
const luaList = <T extends z.ZodTypeAny>(item: T) => z.array(item).or(z.object({}).strict().transform((): z.output<T>[] => []));

/**
 * Who could run a job of one requirement signature (`Broker.reach`). `excluded` is filled only when
 * `liveWorkers` is 0: per capability class of the service, the requirement field that excludes it
 * (`gpuMemoryMb`, `models`, `tenant`, `machineId`, …) or `no-live-worker` when it matches but none
 * of its workers is live; `caps` is what the class offers.
 */
export const Reach = z.object({
  liveWorkers: z.number().int(),
  classes: z.number().int(),
  excluded: luaList(
    z.object({
      class: z.string(),
      reason: z.string(),
      caps: z.object({ gpuMemoryMb: z.number().optional(), models: luaList(z.string()).optional(), tags: luaList(z.string()).optional(), pool: z.string().optional() }).passthrough(),
    }),
  ),
});
export type Reach = z.infer<typeof Reach>;

export const QueueStats = z.object({
  now: z.number().int(),
  queues: luaList(QueueStat),
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
