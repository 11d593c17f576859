import { z } from 'zod';
import { JobError, Progress } from './job.ts';

export const JobEventType = z.enum([
  'pending',
  'delayed',
  'active',
  'progress',
  'retrying',
  'completed',
  'failed',
  'cancel-requested',
  'cancelled',
  'lease-expired',
  /** A webhook delivery attempt (apps/api): `delivery`, `webhookAttempt`, `httpStatus`, `reason`, `dueAt` (next try). */
  'webhook',
]);
export type JobEventType = z.infer<typeof JobEventType>;

const jsonField = <T extends z.ZodTypeAny>(schema: T) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** One entry of a job's timeline or of the global event stream (stream fields are strings). */
export const JobEvent = z.object({
  /** Stream entry id: resumable cursor (SSE Last-Event-ID). */
  id: z.string(),
  job: z.string(),
  tenant: z.string(),
  type: JobEventType,
  ts: z.coerce.number().int(),
  service: z.string().optional(),
  worker: z.string().optional(),
  machine: z.string().optional(),
  attempt: z.coerce.number().int().optional(),
  reason: z.string().optional(),
  dueAt: z.coerce.number().int().optional(),
  progress: jsonField(Progress).optional(),
  error: jsonField(JobError).optional(),
  /** `webhook` entries: how the attempt ended. */
  delivery: z.enum(['delivered', 'retrying', 'gave-up']).optional(),
  /** `webhook` entries: the receiver's HTTP status, when it answered. */
  httpStatus: z.coerce.number().int().optional(),
  /** `webhook` entries: 1-based delivery attempt (distinct from the job's run `attempt`). */
  webhookAttempt: z.coerce.number().int().optional(),
});
export type JobEvent = z.infer<typeof JobEvent>;
