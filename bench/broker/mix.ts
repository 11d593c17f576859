import { signatureOf, type JobSubmission, type Requirements, type WorkerCapabilities } from '@conveyor/core';

export const SERVICE = 'comfyui';
export const NAMESPACE = 'bench';
export const SIGNATURES = 10;

const MODEL_SETS: readonly (readonly string[])[] = [['sdxl'], ['flux'], ['sdxl', 'flux'], ['wan'], []];

/**
 * Ten requirement shapes over models, GPU memory and pool: each lands in its own pending index, so
 * every claim does real capability matching across ten signatures.
 */
export const REQUIREMENT_MIX: readonly Requirements[] = Array.from({ length: SIGNATURES }, (_, i) => {
  const models = MODEL_SETS[i % MODEL_SETS.length] ?? [];
  return {
    gpuMemoryMb: 8192 * (1 + (i % 3)),
    ...(models.length > 0 ? { models: [...models] } : {}),
    ...(i >= MODEL_SETS.length ? { pool: 'gpu-a' } : {}),
  };
});

/** The i-th job of a run: a no-op whose requirements cycle through the mix. */
export function jobAt(i: number, payload: unknown = { i }): JobSubmission {
  return { service: SERVICE, payload, requirements: REQUIREMENT_MIX[i % SIGNATURES] };
}

/** A worker whose capabilities satisfy every signature of the mix. */
export function workerCapabilities(workerId: string, concurrency: number): WorkerCapabilities {
  return {
    workerId,
    machineId: 'bench-machine',
    services: [SERVICE],
    gpu: { index: 0, memoryMb: 24_576 },
    models: ['sdxl', 'flux', 'wan'],
    pool: 'gpu-a',
    concurrency,
  };
}

/** Fails the run if the mix ever stops producing exactly ten distinct signatures. */
export function assertSignatureMix(): void {
  const sigs = new Set(REQUIREMENT_MIX.map((r) => signatureOf(SERVICE, 'default', r).sig));
  if (sigs.size !== SIGNATURES) throw new Error(`requirement mix has ${sigs.size} distinct signatures, expected ${SIGNATURES}`);
}
