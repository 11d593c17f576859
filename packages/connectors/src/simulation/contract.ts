import { Identifier } from '@conveyor/core/schemas';
import { z } from 'zod';
import { defineContract } from '../contract.ts';

export const SimulationPayload = z
  .object({
    /** Total run time, spread evenly over the steps. */
    durationMs: z.number().int().min(0).max(600_000, 'must be at most 600000 (10 minutes)').default(1000),
    /** Progress reports per run. */
    steps: z.number().int().min(1).max(1000).default(10),
    /** Chance (0..1) that an attempt fails at a random step. */
    failureRate: z.number().min(0).max(1).default(0),
    /** Whether a simulated failure may be retried (true) or ends the job (false). */
    failRetryable: z.boolean().default(true),
    /** Returned unchanged in the job's result. */
    result: z.unknown().optional(),
    /** Makes the dice repeatable: the same seed and attempt number always roll the same. */
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    /**
     * A model the run needs: when this worker does not hold it warm, the run first spends `loadMs`
     * loading it (a cold start), and then holds it (warm-model routing, preload).
     */
    model: Identifier.optional(),
    /** Load time of `model` when cold; defaults to 10 times `durationMs`. */
    loadMs: z.number().int().min(0).max(600_000, 'must be at most 600000 (10 minutes)').optional(),
  })
  .strict();
export type SimulationPayload = z.output<typeof SimulationPayload>;

export const SimulationResult = z.object({ result: z.unknown(), steps: z.number().int(), durationMs: z.number().int(), attempt: z.number().int() });

export const simulationContract = defineContract<SimulationPayload>({
  name: 'simulation',
  kind: 'cpu',
  summary: 'Stands in for real work: waits, reports progress, fails on demand.',
  payload: SimulationPayload,
  result: SimulationResult,
  example: { durationMs: 3000, steps: 6, result: { hello: 'world' } },
  models: ({ model }) => (model === undefined ? [] : [model]),
});
