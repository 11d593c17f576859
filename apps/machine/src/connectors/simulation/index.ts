import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConveyorError, defineConnector, NonRetryableError, type Connector, type ConnectorSetup } from '@conveyor/core';
import { z } from 'zod';
import { seededRandom } from './random.ts';

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
  })
  .strict();
export type SimulationPayload = z.output<typeof SimulationPayload>;

/** Stands in for real work in demos, tests and benchmarks: waits, reports progress, fails on demand. */
export async function createSimulationConnector(_setup: ConnectorSetup): Promise<Connector<SimulationPayload>> {
  return defineConnector<SimulationPayload>({
    name: 'simulation',
    kind: 'cpu',
    payload: SimulationPayload,
    async run(job, ctx) {
      const { durationMs, steps, failureRate, failRetryable } = job.payload;
      // The attempt number is mixed into the seed so a seeded job that fails can still succeed on retry.
      const random = seededRandom(job.payload.seed === undefined ? randomInt(2 ** 31) : job.payload.seed + job.attempt);
      const failAtStep = random() < failureRate ? 1 + Math.floor(random() * steps) : undefined;
      for (let step = 1; step <= steps; step++) {
        await sleep(durationMs / steps, undefined, { signal: ctx.signal });
        if (step === failAtStep) {
          const message = `simulated failure at step ${step}/${steps} (attempt ${job.attempt})`;
          throw failRetryable ? new ConveyorError('SIMULATED_FAILURE', message) : new NonRetryableError(message, 'SIMULATED_FAILURE');
        }
        await ctx.progress({ percent: Math.round((step / steps) * 100), message: `step ${step}/${steps}` });
      }
      return { result: job.payload.result ?? null, steps, durationMs, attempt: job.attempt };
    },
  });
}
