import { z } from 'zod';
import { Identifier, ServiceName } from './names.ts';
import { Progress } from './job.ts';

/**
 * starting → installing → warming → ready → draining → stopped; `warming` while a GPU service
 * (ComfyUI) does not answer its health check yet, and again if it stops answering; `offline` is
 * derived when heartbeats stop.
 */
export const MachineStatus = z.enum(['starting', 'installing', 'warming', 'ready', 'draining', 'stopped', 'offline']);
export type MachineStatus = z.infer<typeof MachineStatus>;

export const Gpu = z.object({
  index: z.number().int().min(0),
  name: z.string(),
  memoryMb: z.number().int().min(0),
  memoryFreeMb: z.number().int().min(0).optional(),
  driver: z.string().optional(),
});
export type Gpu = z.infer<typeof Gpu>;

export const InstallerState = z.object({
  connector: ServiceName,
  status: z.enum(['pending', 'running', 'done', 'skipped', 'failed']),
  progress: Progress.optional(),
  error: z.string().optional(),
});
export type InstallerState = z.infer<typeof InstallerState>;

/** A GPU's service (ComfyUI on that GPU): `ready` only while it answers its health check. */
export const GpuServiceState = z.object({
  gpu: z.number().int().min(0),
  service: ServiceName,
  status: z.enum(['warming', 'ready']),
  /** When it entered this status (ms). */
  since: z.number().int(),
});
export type GpuServiceState = z.infer<typeof GpuServiceState>;

export const MachineState = z.object({
  machineId: Identifier,
  status: MachineStatus,
  hostname: z.string(),
  pool: Identifier.optional(),
  connectors: z.array(ServiceName),
  hardware: z.object({
    cpuModel: z.string(),
    cpuCores: z.number().int().min(0),
    memoryMb: z.number().int().min(0),
    diskFreeMb: z.number().int().min(0).optional(),
    gpus: z.array(Gpu),
  }),
  installers: z.array(InstallerState),
  /** Health of the services that run per GPU; absent on machines without one. */
  gpuServices: z.array(GpuServiceState).optional(),
  workers: z.array(Identifier),
  startedAt: z.number().int(),
  updatedAt: z.number().int(),
  /** Set when read: last heartbeat time (ms). */
  lastSeen: z.number().int().optional(),
});
export type MachineState = z.infer<typeof MachineState>;

export const WorkerStatus = z.enum(['starting', 'idle', 'busy', 'draining', 'stopped', 'offline']);
export type WorkerStatus = z.infer<typeof WorkerStatus>;

export const WorkerState = z.object({
  workerId: Identifier,
  machineId: Identifier,
  services: z.array(ServiceName),
  gpuIndex: z.number().int().min(0).optional(),
  status: WorkerStatus,
  concurrency: z.number().int().min(1),
  currentJobs: z.array(z.object({ id: z.string(), progress: Progress.optional() })),
  jobsDone: z.number().int().min(0),
  jobsFailed: z.number().int().min(0),
  updatedAt: z.number().int(),
  lastSeen: z.number().int().optional(),
});
export type WorkerState = z.infer<typeof WorkerState>;

export const FleetEvent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('machine'), machine: MachineState }),
  z.object({ kind: z.literal('worker'), worker: WorkerState }),
  z.object({ kind: z.literal('machine-removed'), machineId: Identifier }),
  z.object({ kind: z.literal('worker-removed'), workerId: Identifier }),
]);
export type FleetEvent = z.infer<typeof FleetEvent>;
