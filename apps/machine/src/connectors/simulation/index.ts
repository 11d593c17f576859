import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { simulationContract, type SimulationPayload } from '@conveyor/connectors';
import { ConveyorError, defineConnector, NonRetryableError, type Connector, type ConnectorSetup } from '@conveyor/core';
import { seededRandom } from './random.ts';

/** Stands in for real work in demos, tests and benchmarks: waits, reports progress, fails on demand. */
export async function createSimulationConnector(_setup: ConnectorSetup): Promise<Connector<SimulationPayload>> {
  return defineConnector<SimulationPayload>({
    ...simulationContract,
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
