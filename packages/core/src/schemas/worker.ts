import { z } from 'zod';
import { Identifier, ServiceName } from './names.ts';

const Names = z.array(Identifier).max(256);

/** What a worker can run; the broker hands it only jobs whose requirements these satisfy. */
export const WorkerCapabilities = z
  .object({
    workerId: Identifier,
    machineId: Identifier,
    services: z.array(ServiceName).min(1, 'a worker must run at least one service'),
    gpu: z
      .object({ index: z.number().int().min(0), memoryMb: z.number().int().min(0), name: z.string().optional() })
      .strict()
      .optional(),
    models: Names.default([]),
    tags: Names.default([]),
    pool: Identifier.optional(),
    /** `allow`: this worker is dedicated to these tenants and runs no one else's jobs. */
    tenants: z.object({ allow: Names.optional(), deny: Names.optional() }).strict().optional(),
    concurrency: z.number().int().min(1).max(1000).default(1),
    /**
     * Most jobs of a service running at once, within `concurrency` (e.g. a browser connector
     * sharing a process with API connectors). Limits claims only: not part of the capability class.
     */
    serviceConcurrency: z.record(ServiceName, z.number().int().min(1)).optional(),
  })
  .strict()
  .superRefine((caps, ctx) => {
    for (const [service, limit] of Object.entries(caps.serviceConcurrency ?? {})) {
      const path = ['serviceConcurrency', service];
      if (!caps.services.includes(service)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `is not one of this worker's services (${caps.services.join(', ')})` });
      }
      if (limit > caps.concurrency) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `is ${limit}, over the worker's concurrency of ${caps.concurrency}` });
      }
    }
  });
export type WorkerCapabilities = z.input<typeof WorkerCapabilities>;
export type ParsedWorkerCapabilities = z.output<typeof WorkerCapabilities>;
