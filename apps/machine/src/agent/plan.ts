import type { Gpu } from '@conveyor/core';
import { catalogEntry, type ConnectorName } from './catalog.ts';
import type { ConnectorRequest } from './connector-spec.ts';

export interface GpuAssignment {
  readonly gpu: Gpu;
  /** GPU-bound connectors served by this GPU's worker. */
  readonly services: ConnectorName[];
}

/** Where each requested connector runs, before installers decide which of them actually can. */
export interface Placement {
  readonly gpus: GpuAssignment[];
  readonly api: {
    readonly services: ConnectorName[];
    readonly concurrency: number;
    /** Most jobs of each connector at once: its count, so one connector cannot take every slot. */
    readonly serviceConcurrency: Readonly<Record<string, number>>;
  };
  /** Connectors that cannot be placed on this hardware, with the reason. */
  readonly unplaceable: { readonly connector: ConnectorName; readonly reason: string }[];
}

export interface PlacementOptions {
  /** API_WORKER_CONCURRENCY: overrides the sum of the API connectors' counts. */
  readonly apiConcurrency?: number;
}

/**
 * GPU connectors go to GPUs 0..count-1 (every GPU for `auto`); API/CPU connectors share one worker
 * whose concurrency is the sum of their counts, each connector capped at its own count (and at the
 * worker's concurrency when API_WORKER_CONCURRENCY lowers it). `accepted` filters out connectors
 * whose installer failed, so the same function yields the final plan.
 */
export function placeConnectors(
  requests: readonly ConnectorRequest[],
  gpus: readonly Gpu[],
  options: PlacementOptions = {},
  accepted: (name: ConnectorName) => boolean = () => true,
): Placement {
  const perGpu = new Map<number, ConnectorName[]>();
  const api: ConnectorName[] = [];
  const apiCounts: Record<string, number> = {};
  const unplaceable: Placement['unplaceable'] = [];
  for (const { name, count } of requests) {
    if (!accepted(name)) continue;
    const entry = catalogEntry(name);
    if (entry.kind !== 'gpu') {
      api.push(name);
      apiCounts[name] = count === 'auto' ? entry.defaultConcurrency : count;
      continue;
    }
    if (gpus.length === 0) {
      unplaceable.push({ connector: name, reason: 'needs a GPU and none was detected (set MACHINE_GPU_COUNT to simulate GPUs)' });
      continue;
    }
    const wanted = count === 'auto' ? gpus.length : count;
    if (wanted > gpus.length) {
      unplaceable.push({ connector: name, reason: `${name}:${wanted} asks for ${wanted} GPUs but ${gpus.length} were detected` });
      continue;
    }
    for (const gpu of gpus.slice(0, wanted)) perGpu.set(gpu.index, [...(perGpu.get(gpu.index) ?? []), name]);
  }
  const concurrency = api.length === 0 ? 0 : (options.apiConcurrency ?? Object.values(apiCounts).reduce((a, b) => a + b, 0));
  const serviceConcurrency = Object.fromEntries(Object.entries(apiCounts).map(([name, n]) => [name, Math.min(n, concurrency)]));
  return {
    gpus: gpus.filter((g) => perGpu.has(g.index)).map((gpu) => ({ gpu, services: perGpu.get(gpu.index) ?? [] })),
    api: { services: api, concurrency, serviceConcurrency },
    unplaceable,
  };
}
