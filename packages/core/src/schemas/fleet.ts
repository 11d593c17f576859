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

/**
 * An operator's (or the machine's own elastic policy's) request to change the services of a running
 * machine, sent on the machine's command stream (FleetRegistry.sendServiceCommand). `count` is as in
 * WORKER_CONNECTORS: GPUs for a GPU connector, the job cap for an API/CPU one; absent means `auto`.
 */
export const ServiceCommand = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('add-service'),
    id: z.string().min(1).max(100),
    service: ServiceName,
    count: z.number().int().min(1).max(1000).optional(),
    requestedAt: z.number().int(),
  }),
  z.object({ type: z.literal('remove-service'), id: z.string().min(1).max(100), service: ServiceName, requestedAt: z.number().int() }),
]);
export type ServiceCommand = z.infer<typeof ServiceCommand>;

/**
 * One add or remove as the machine carries it out: queued → installing → starting → done (add),
 * queued → draining → done (remove), or failed with `error` at any step.
 */
export const ServiceOperation = z.object({
  id: z.string(),
  action: z.enum(['add', 'remove']),
  service: ServiceName,
  /** Who asked: an operator through the API or CLI, or the machine's elastic policy. */
  origin: z.enum(['operator', 'elastic']),
  status: z.enum(['queued', 'installing', 'starting', 'draining', 'done', 'failed']),
  progress: Progress.optional(),
  error: z.string().optional(),
  /** PM2 apps started (add) or deleted (remove). */
  apps: z.array(z.string()).optional(),
  requestedAt: z.number().int(),
  finishedAt: z.number().int().optional(),
});
export type ServiceOperation = z.infer<typeof ServiceOperation>;

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
  /** Connectors this machine could add at runtime (its catalog); absent on machines that cannot. */
  addable: z.array(ServiceName).optional(),
  /** Connectors the machine adds by itself when their jobs wait with no live worker (MACHINE_ELASTIC_SERVICES). */
  elastic: z.array(ServiceName).optional(),
  /** The latest runtime service changes, newest last. */
  operations: z.array(ServiceOperation).optional(),
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
  /** Models the worker holds warm, most recently used first (warm-model routing). */
  warmModels: z.array(z.string()).optional(),
  /** The model a preload is loading now (shown as `warming <model>`). */
  warming: z.string().optional(),
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
