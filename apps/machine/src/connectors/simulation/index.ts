import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { simulationContract, type SimulationPayload } from '@conveyor/connectors';
import { ConveyorError, defineConnector, NonRetryableError, seededRandom, WarmLru, type Connector, type ConnectorSetup } from '@conveyor/core';
import { z } from 'zod';
import { millisSetting, optionalSetting, readSettings } from '../settings.ts';

const SimulationSettings = z.object({
  /** Models a simulated GPU holds warm at once (least recently used evicted first). */
  SIMULATION_WARM_MODELS: optionalSetting(z.string().regex(/^[1-9]\d*$/, 'must be a whole number of at least 1, e.g. SIMULATION_WARM_MODELS=2').transform(Number)).transform(
    (v) => v ?? 2,
  ),
  /** How long a preload of a model not yet seen takes (a model seen before preloads in its last load time). */
  SIMULATION_LOAD_MS: millisSetting(5000, 'SIMULATION_LOAD_MS=5000'),
});

/** The models this simulated GPU holds, and how long each took to load last. */
function simulatedGpu(warmModels: number, defaultLoadMs: number) {
  const warm = new WarmLru({ count: warmModels });
  const loadTimes = new Map<string, number>();
  /** Loads `model` (taking `ms`); it is warm only once the load finished. */
  const load = async (model: string, ms: number, signal: AbortSignal) => {
    await sleep(ms, undefined, { signal });
    loadTimes.set(model, ms);
    warm.use(model);
  };
  return {
    warm,
    load,
    warmth: {
      warmModels: () => warm.models(),
      capacity: warmModels,
      preload: (model: string, signal: AbortSignal) => load(model, loadTimes.get(model) ?? defaultLoadMs, signal),
    },
  };
}

/**
 * Stands in for real work in demos, tests and benchmarks: waits, reports progress, fails on demand,
 * and with a `model` pays a load on a cold start as a GPU would (cold = load + run, warm = run).
 */
export async function createSimulationConnector(setup: ConnectorSetup): Promise<Connector<SimulationPayload>> {
  const settings = readSettings(SimulationSettings, setup.env);
  const gpu = simulatedGpu(settings.SIMULATION_WARM_MODELS, settings.SIMULATION_LOAD_MS);
  return defineConnector<SimulationPayload>({
    ...simulationContract,
    warmth: gpu.warmth,
    async run(job, ctx) {
      const { durationMs, steps, failureRate, failRetryable, model } = job.payload;
      let loadMs: number | undefined;
      if (model !== undefined && !gpu.warm.has(model)) {
        loadMs = job.payload.loadMs ?? 10 * durationMs;
        await ctx.progress({ percent: 0, message: `loading ${model}` });
        await gpu.load(model, loadMs, ctx.signal);
      } else if (model !== undefined) gpu.warm.use(model);
      const started = Date.now();
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
      ctx.observe?.({ model, runMs: Date.now() - started, loadMs });
      return { result: job.payload.result ?? null, steps, durationMs, attempt: job.attempt, ...(model === undefined ? {} : { model, cold: loadMs !== undefined }) };
    },
  });
}
