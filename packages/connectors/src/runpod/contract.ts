import { z } from 'zod';
import { defineContract } from '../contract.ts';

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

export const RunPodResult = z.object({
  runpodJobId: z.string(),
  /** What the endpoint's handler returned. */
  output: z.unknown(),
  delayTime: z.number().optional(),
  executionTime: z.number().optional(),
  /** What a streaming handler yielded, in order. */
  stream: z.array(z.unknown()).optional(),
});

export const runpodContract = defineContract<RunPodPayload>({
  name: 'runpod',
  kind: 'api',
  summary: 'Calls a RunPod serverless endpoint and follows the job until it ends.',
  payload: RunPodPayload,
  result: RunPodResult,
  example: { endpointId: 'abc123xyz', input: { prompt: 'a red bicycle' } },
  // An endpoint runs whatever its image holds: the payload names no model the broker could route on.
  models: () => [],
});
