import { FleetEvent, Job, JobEventType, JobId, JobStatus, MachineState, QueueStats, WorkerState } from '@conveyor/core';
import { z } from 'zod';
import { StreamId } from '../streams/job-watch.ts';

/**
 * Every WebSocket message, both directions, as zod schemas (see PROTOCOL.md). Incoming messages
 * are parsed with these; outgoing ones are typed by them and checked against them in the tests.
 */
export const PROTOCOL_VERSION = 1;

/** Echoed on replies so a client can match answers to requests. */
const Ref = z.string().max(100).optional();

// ---- client → server, /ws -------------------------------------------------------------------
export const SubmitMessage = z.object({ type: z.literal('submit'), ref: Ref, job: z.unknown(), idempotencyKey: z.string().optional() }).strict();
export const SubscribeMessage = z.object({ type: z.literal('subscribe'), ref: Ref, jobId: JobId, after: StreamId.optional() }).strict();
export const UnsubscribeMessage = z.object({ type: z.literal('unsubscribe'), ref: Ref, jobId: JobId }).strict();
export const CancelMessage = z.object({ type: z.literal('cancel'), ref: Ref, jobId: JobId }).strict();
export const PingMessage = z.object({ type: z.literal('ping'), ref: Ref }).strict();
export const ClientMessage = z.discriminatedUnion('type', [SubmitMessage, SubscribeMessage, UnsubscribeMessage, CancelMessage, PingMessage]);
export type ClientMessage = z.infer<typeof ClientMessage>;

// ---- client → server, /ws/monitor -----------------------------------------------------------
export const ResyncMessage = z.object({ type: z.literal('resync'), ref: Ref }).strict();
export const MonitorClientMessage = z.discriminatedUnion('type', [PingMessage, ResyncMessage]);
export type MonitorClientMessage = z.infer<typeof MonitorClientMessage>;

// ---- server → client, both endpoints --------------------------------------------------------
export const Issue = z.object({ path: z.string(), message: z.string() });
export const ErrorMessage = z.object({
  type: z.literal('error'),
  ref: Ref,
  jobId: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string(), issues: z.array(Issue), status: z.number().int() }),
});
export const HelloMessage = z.object({
  type: z.literal('hello'),
  protocol: z.literal(PROTOCOL_VERSION),
  endpoint: z.enum(['session', 'monitor']),
  session: z.string(),
  mode: z.enum(['local', 'server']),
  tenant: z.string(),
  admin: z.boolean(),
  heartbeatMs: z.number().int(),
});
export const PongMessage = z.object({ type: z.literal('pong'), ref: Ref, ts: z.number().int() });
export const ReconnectMessage = z.object({ type: z.literal('reconnect'), reason: z.literal('shutdown'), retryMs: z.number().int().min(0) });

/** A timeline entry as sent: stream fields already decoded; `completed` carries `result`. */
export const EventPayload = z.object({ id: z.string(), job: z.string(), tenant: z.string(), type: JobEventType, ts: z.number().int() }).passthrough();

// ---- server → client, /ws -------------------------------------------------------------------
/** `warnings`: as `POST /api/jobs` answers them (NO_LIVE_WORKER), present only when there are some. */
export const SubmittedMessage = z.object({
  type: z.literal('submitted'),
  ref: Ref,
  id: JobId,
  duplicate: z.boolean(),
  warnings: z.array(z.object({ code: z.literal('NO_LIVE_WORKER'), message: z.string(), excluded: z.array(z.unknown()) })).optional(),
});
export const SubscribedMessage = z.object({ type: z.literal('subscribed'), ref: Ref, jobId: JobId, status: JobStatus });
/** `ended`: the job reached a terminal status (its terminal event was sent first); `requested`: the client asked. */
export const UnsubscribedMessage = z.object({ type: z.literal('unsubscribed'), ref: Ref, jobId: JobId, reason: z.enum(['requested', 'ended']) });
export const CancelResultMessage = z.object({ type: z.literal('cancel-result'), ref: Ref, jobId: JobId, status: z.enum(['cancelled', 'cancel-requested']) });
export const EventMessage = z.object({ type: z.literal('event'), jobId: JobId, event: EventPayload });
export const SessionServerMessage = z.discriminatedUnion('type', [
  HelloMessage,
  SubmittedMessage,
  SubscribedMessage,
  UnsubscribedMessage,
  CancelResultMessage,
  EventMessage,
  PongMessage,
  ErrorMessage,
  ReconnectMessage,
]);
export type SessionServerMessage = z.infer<typeof SessionServerMessage>;

// ---- server → client, /ws/monitor -----------------------------------------------------------
export const PublicJobSchema = Job.omit({ webhook: true }).extend({ webhook: z.union([z.object({ url: z.string(), signed: z.literal(true) }), z.object({ url: z.string(), format: z.literal('runpod') })]).optional() });
export const SnapshotMessage = z.object({
  type: z.literal('snapshot'),
  reason: z.enum(['initial', 'resync', 'requested']),
  ref: Ref,
  /** Deltas after this snapshot have a larger seq; ones with seq <= this are already reflected. */
  seq: z.number().int(),
  at: z.number().int(),
  machines: z.array(MachineState),
  workers: z.array(WorkerState),
  queues: QueueStats,
  recentJobs: z.array(PublicJobSchema),
});
export const DeltaMessage = z.object({
  type: z.literal('delta'),
  seq: z.number().int(),
  at: z.number().int(),
  /** Global event stream entries (their ids are global stream ids, not timeline ids). */
  jobs: z.array(EventPayload),
  fleet: z.array(FleetEvent),
  /** Present when queue statistics changed since the previous delta. */
  queues: QueueStats.optional(),
});
export const MonitorServerMessage = z.discriminatedUnion('type', [HelloMessage, SnapshotMessage, DeltaMessage, PongMessage, ErrorMessage, ReconnectMessage]);
export type MonitorServerMessage = z.infer<typeof MonitorServerMessage>;
