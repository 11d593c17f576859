import { z } from 'zod';

const MODEL = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VERSION = /^([A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*:)?[0-9a-f]{64}$/;

export const ReplicatePayload = z
  .object({
    /** An official or deployment-less model run at its latest version, as `owner/name`. */
    model: z.string().regex(MODEL, 'must be "owner/name"').optional(),
    /** A pinned version: its 64-character id, or `owner/name:<id>`. */
    version: z.string().regex(VERSION, 'must be a 64-character hex version id, or "owner/name:<version id>"').optional(),
    /** The model's inputs, as its schema on Replicate names them; checked by Replicate (422 when wrong). */
    input: z.record(z.unknown()),
    /** Replicate calls this URL on prediction events, besides the job's own progress. */
    webhook: z.string().url().optional(),
    webhook_events_filter: z.array(z.enum(['start', 'output', 'logs', 'completed'])).min(1).optional(),
  })
  .strict()
  .superRefine((payload, ctx) => {
    if (payload.model !== undefined && payload.version !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['version'], message: 'give either model or version, not both' });
    } else if (payload.model === undefined && payload.version === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['model'], message: 'is required unless version is given ("owner/name")' });
    }
  });
export type ReplicatePayload = z.output<typeof ReplicatePayload>;
