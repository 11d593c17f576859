import { ArtifactRef } from '@conveyor/core/schemas';
import { z } from 'zod';
import { defineContract } from '../contract.ts';

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

export const ReplicateResult = z.object({
  predictionId: z.string(),
  model: z.string(),
  version: z.string().optional(),
  status: z.literal('succeeded'),
  /** The prediction's output with every file URL replaced by the artifact it was copied into. */
  output: z.unknown(),
  artifacts: z.array(ArtifactRef),
  metrics: z.record(z.unknown()).nullable(),
});

export const replicateContract = defineContract<ReplicatePayload>({
  name: 'replicate',
  kind: 'api',
  summary: 'Runs a prediction on Replicate (a model, or a pinned version) and copies its output files.',
  payload: ReplicatePayload,
  result: ReplicateResult,
  example: { model: 'black-forest-labs/flux-schnell', input: { prompt: 'a watercolor fox', num_outputs: 1 } },
  models: (payload) => [payload.model ?? payload.version ?? ''].filter((m) => m !== ''),
});
