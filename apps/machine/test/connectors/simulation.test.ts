import { expect, it } from 'vitest';
import { createSimulationConnector } from '../../src/connectors/simulation/index.ts';
import { describeConnectorConformance } from './conformance.ts';
import { runDirect, tempArtifactStore, testLogger } from './harness.ts';

const create = () => createSimulationConnector({ env: {}, logger: testLogger });

describeConnectorConformance('simulation', {
  create,
  invalid: [
    { payload: { durationMs: 'slow' }, field: 'durationMs' },
    { payload: { durationMs: 600_001 }, field: 'durationMs' },
    { payload: { steps: 0 }, field: 'steps' },
    { payload: { failureRate: 1.5 }, field: 'failureRate' },
    { payload: { unknownOption: true }, field: 'unknownOption' },
  ],
  completes: {
    payload: { durationMs: 50, steps: 5, result: { echo: 'hello' } },
    async check(result) {
      expect(result).toEqual({ result: { echo: 'hello' }, steps: 5, durationMs: 50, attempt: 1 });
    },
  },
  cancellable: { payload: { durationMs: 600_000, steps: 600 } },
  retryableFailure: { payload: { durationMs: 10, steps: 2, failureRate: 1 }, code: 'SIMULATED_FAILURE' },
  nonRetryableFailure: { payload: { durationMs: 10, steps: 2, failureRate: 1, failRetryable: false }, code: 'SIMULATED_FAILURE' },
});

it('reports one progress step per configured step, ending at 100', async () => {
  const artifacts = await tempArtifactStore();
  try {
    const { progress } = await runDirect(await create(), { durationMs: 0, steps: 4 }, { store: artifacts.store });
    expect(progress.map((p) => p.percent)).toEqual([25, 50, 75, 100]);
  } finally {
    await artifacts.remove();
  }
});

it('rolls the same dice for the same seed and attempt', async () => {
  const connector = await create();
  const artifacts = await tempArtifactStore();
  const outcome = async (seed: number) =>
    runDirect(connector, { durationMs: 0, steps: 10, failureRate: 0.5, seed }, { store: artifacts.store }).then(
      (r) => `ok after ${r.progress.length}`,
      (err: Error) => err.message,
    );
  try {
    const seeds = Array.from({ length: 20 }, (_, i) => i);
    const first = await Promise.all(seeds.map(outcome));
    expect(await Promise.all(seeds.map(outcome))).toEqual(first);
    // A rate of one half over twenty seeds yields both outcomes; all-equal would mean the dice are ignored.
    expect(new Set(first.map((o) => o.startsWith('ok'))).size).toBe(2);
  } finally {
    await artifacts.remove();
  }
});
