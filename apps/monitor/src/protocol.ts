import { FleetEvent, JobError, MachineState, Progress, QueueStats, Job as StoredJob, JobEvent as StreamEntry, WorkerState } from '@conveyor/core/schemas';
import { z } from 'zod';

/**
 * The browser's view of the `/ws/monitor` protocol and of the HTTP bodies the monitor reads. What
 * the API sends as core stores it (machines, workers, queue statistics, progress, errors) is
 * parsed with core's own schemas (`@conveyor/core/schemas`, which import only zod). The API's
 * message envelopes (apps/api/src/ws/protocol.ts) import Node-only code, so they are mirrored
 * here; test/protocol-drift.test.ts parses messages built with the API's own schemas through
 * these, so a change on either side that breaks the monitor fails a test.
 *
 * The mirrored envelopes are deliberately more lenient than the server's: the server is the
 * authority on what is valid, the monitor only needs the shapes it renders.
 */
export {
  FleetEvent,
  Gpu,
  GpuServiceState,
  InstallerState,
  JOB_STATUSES,
  JobError,
  JobEventType,
  JobStatus,
  MachineState,
  MachineStatus,
  Progress,
  QueueStat,
  QueueStats,
  ServiceOperation,
  WorkerState,
  WorkerStatus,
} from '@conveyor/core/schemas';

export const PROTOCOL_VERSION = 1;

/** A job as the API shows it: the webhook's signing secret is replaced by `signed`. */
export const Job = StoredJob.omit({ webhook: true }).extend({ webhook: z.object({ url: z.string(), signed: z.boolean().optional() }).optional() });
export type Job = z.infer<typeof Job>;

/**
 * A timeline entry or global stream entry as the API sends it: core's stream entry with its JSON
 * fields already decoded, and a `completed` entry's `result`.
 */
export const JobEvent = StreamEntry.extend({ progress: Progress.optional(), error: JobError.optional(), result: z.unknown().optional() });
export type JobEvent = z.infer<typeof JobEvent>;

export const Issue = z.object({ path: z.string(), message: z.string() });
export type Issue = z.infer<typeof Issue>;

export const ErrorBody = z.object({ code: z.string(), message: z.string(), issues: z.array(Issue).default([]) });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const HelloMessage = z.object({
  type: z.literal('hello'),
  protocol: z.number(),
  endpoint: z.string(),
  session: z.string(),
  mode: z.enum(['local', 'server']),
  tenant: z.string(),
  admin: z.boolean(),
  heartbeatMs: z.number(),
});
export type HelloMessage = z.infer<typeof HelloMessage>;

export const SnapshotMessage = z.object({
  type: z.literal('snapshot'),
  reason: z.enum(['initial', 'resync', 'requested']),
  ref: z.string().optional(),
  seq: z.number(),
  at: z.number(),
  machines: z.array(MachineState),
  workers: z.array(WorkerState),
  queues: QueueStats,
  recentJobs: z.array(Job),
});
export type SnapshotMessage = z.infer<typeof SnapshotMessage>;

export const DeltaMessage = z.object({
  type: z.literal('delta'),
  seq: z.number(),
  at: z.number(),
  jobs: z.array(JobEvent),
  fleet: z.array(FleetEvent),
  queues: QueueStats.optional(),
});
export type DeltaMessage = z.infer<typeof DeltaMessage>;

export const MonitorServerMessage = z.discriminatedUnion('type', [
  HelloMessage,
  SnapshotMessage,
  DeltaMessage,
  z.object({ type: z.literal('pong'), ref: z.string().optional(), ts: z.number() }),
  z.object({ type: z.literal('error'), ref: z.string().optional(), error: ErrorBody.extend({ status: z.number() }) }),
  z.object({ type: z.literal('reconnect'), reason: z.string(), retryMs: z.number() }),
]);
export type MonitorServerMessage = z.infer<typeof MonitorServerMessage>;

export type MonitorClientMessage = { type: 'ping'; ref?: string } | { type: 'resync'; ref?: string };

// ---- HTTP bodies ----------------------------------------------------------------------------
export const ErrorResponse = z.object({ error: ErrorBody });
export const JobDetailResponse = z.object({ job: Job, timeline: z.array(JobEvent) });
export type JobDetailResponse = z.infer<typeof JobDetailResponse>;
export const JobListResponse = z.object({ jobs: z.array(Job), cursor: z.string().optional() });
export type JobListResponse = z.infer<typeof JobListResponse>;
/** Something about an accepted job the user should know (NO_LIVE_WORKER: nothing live can run it yet). */
export const SubmitWarning = z.object({ code: z.string(), message: z.string() });
export type SubmitWarning = z.infer<typeof SubmitWarning>;
export const SubmitResponse = z.object({ id: z.string(), duplicate: z.boolean(), warnings: z.array(SubmitWarning).default([]) });
/** `GET /api/services`: the services with a connector contract. */
export const ServiceInfo = z.object({
  name: z.string(),
  kind: z.string(),
  summary: z.string(),
  example: z.unknown(),
  liveWorkers: z.number().int(),
  payloadSchema: z.record(z.unknown()),
});
export type ServiceInfo = z.infer<typeof ServiceInfo>;
export const ServicesResponse = z.object({ services: z.array(ServiceInfo) });
export const ActionResponse = z.object({ id: z.string(), status: z.string() });
/** GET /api/services/:name/stats: run and load time averages per capability class and model. */
export const ServiceStatsResponse = z.object({
  service: z.string(),
  models: z.array(
    z.object({ classId: z.string(), model: z.string(), runMs: z.number(), loadMs: z.number(), runs: z.number(), loads: z.number() }),
  ),
  classes: z.record(z.object({ gpuMemoryMb: z.number().optional() }).passthrough().nullable()),
});
export type ServiceStatsResponse = z.infer<typeof ServiceStatsResponse>;
export type ActionResponse = z.infer<typeof ActionResponse>;
/** 202 of `POST /api/machines/:id/services` and `DELETE /api/machines/:id/services/:service`. */
export const ServiceChangeResponse = z.object({ machineId: z.string(), operation: z.object({ id: z.string(), action: z.string(), service: z.string(), status: z.string() }) });
export type ServiceChangeResponse = z.infer<typeof ServiceChangeResponse>;
