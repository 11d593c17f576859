import { z } from 'zod';
import { JobError, Progress } from './job.ts';

export const JobEventType = z.enum([
  'pending',
  'delayed',
  'active',
  'progress',
  'retrying',
  'completed',
  'failed',
  'cancel-requested',
  'cancelled',
  'lease-expired',
  /**
   * A lease given back before the job ran to its end: by a worker starting under a dead predecessor's
   * id (release.lua; counted as a stall), or by a worker pushed a job it had no free slot for
   * (give_back.lua, `reason` given-back; nothing counted).
   */
  'lease-released',
  /** A webhook delivery attempt (apps/api): `delivery`, `webhookAttempt`, `httpStatus`, `reason`, `dueAt` (next try). */
  'webhook',
]);
export type JobEventType = z.infer<typeof JobEventType>;

const jsonField = <T extends z.ZodTypeAny>(schema: T) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** One entry of a job's timeline or of the global event stream (fields as stored: strings). */
export const JobEvent = z.object({
  /**
   * A timeline entry: its position in the job's timeline, "1", "2", ... (stable and increasing; the
   * resume cursor of SSE `Last-Event-ID`). A global stream entry: its stream id ("<ms>-<seq>"), as
   * are the entries of a timeline written as a stream by an older version.
   */
  id: z.string(),
  job: z.string(),
  tenant: z.string(),
  type: JobEventType,
  ts: z.coerce.number().int(),
  service: z.string().optional(),
  worker: z.string().optional(),
  machine: z.string().optional(),
  attempt: z.coerce.number().int().optional(),
  reason: z.string().optional(),
  dueAt: z.coerce.number().int().optional(),
  progress: jsonField(Progress).optional(),
  error: jsonField(JobError).optional(),
  /** `webhook` entries: how the attempt ended. */
  delivery: z.enum(['delivered', 'retrying', 'gave-up']).optional(),
  /** `webhook` entries: the receiver's HTTP status, when it answered. */
  httpStatus: z.coerce.number().int().optional(),
  /** `webhook` entries: 1-based delivery attempt (distinct from the job's run `attempt`). */
  webhookAttempt: z.coerce.number().int().optional(),
});
export type JobEvent = z.infer<typeof JobEvent>;

/** Between the fields of a stored timeline entry: the ASCII unit separator, which no field needs. */
const FIELD_SEPARATOR = '\x1f';
/** Before each entry of a timeline kept as a string (the job's `tl` field, or an older key): the ASCII record separator. */
const TIMELINE_ENTRY_SEPARATOR = '\x1e';
/** A job's first entry when no entry is stored for it: its submit's `pending`, at its createdAt (the ms of its id). */
const IMPLICIT_SUBMIT_ENTRY = `0${FIELD_SEPARATOR}pending`;

/**
 * The stored entries of a timeline kept as a string, in order. Each entry is preceded by byte 30, so
 * a writer appends one by concatenation; a string written by an older version has none ahead of
 * its first entry, and reads the same. An entry is never empty.
 */
export function splitTimelineText(text: string): string[] {
  const entries = text.split(TIMELINE_ENTRY_SEPARATOR);
  return entries[0] === '' ? entries.slice(1) : entries;
}

/**
 * The entries of a timeline kept in its job's `tl` field (redis/functions/includes/emit.lua), from
 * id 1: the implicit submit entry, then those stored (absent: none yet). A delayed submit stores its
 * own `delayed` entry, which is then the first.
 */
export function timelineFieldEntries(tl: string | undefined): string[] {
  const stored = tl ? splitTimelineText(tl) : [];
  return stored[0]?.split(FIELD_SEPARATOR)[1] === 'delayed' ? stored : [IMPLICIT_SUBMIT_ENTRY, ...stored];
}

/** The ms of a job id (`<ms>-<seq>`): a timeline entry stores its ts relative to it (usually a few digits). */
function timeBase(jobId: string): number {
  const ms = /^(\d+)-/.exec(jobId)?.[1];
  return ms === undefined ? 0 : Number(ms);
}

/**
 * The job a timeline belongs to, as its hash holds it: what its stored entries leave out. The id and
 * tenant are in no entry, the service in no `pending` or `delayed` entry, and an `active` entry
 * stored bare (no fields) is the run of the job's current worker, machine and attempts.
 */
export interface TimelineJob {
  readonly id: string;
  readonly tenant: string;
  readonly service?: string | undefined;
  readonly worker?: string | undefined;
  readonly machine?: string | undefined;
  readonly attempts?: string | undefined;
}

/**
 * Reads back one stored timeline entry with its id, as redis/functions/includes/emit.lua writes it:
 * ts minus the ms of the job id, type, then field, value pairs, joined by byte 31. What the entry
 * leaves out comes from `job` (TimelineJob). Undefined when the entry is malformed.
 */
export function decodeTimelineEntry(job: TimelineJob, id: number, entry: string): JobEvent | undefined {
  const [offset, type, ...rest] = entry.split(FIELD_SEPARATOR);
  const record: Record<string, string> = {};
  const implied = type === 'pending' || type === 'delayed' ? { service: job.service } : type === 'active' && rest.length === 0 ? { worker: job.worker, machine: job.machine, attempt: job.attempts } : {};
  for (const [name, value] of Object.entries(implied)) if (value !== undefined) record[name] = value;
  for (let i = 0; i + 1 < rest.length; i += 2) record[rest[i] as string] = rest[i + 1] as string;
  const ts = /^-?\d+$/.test(offset ?? '') ? timeBase(job.id) + Number(offset) : undefined;
  const parsed = JobEvent.safeParse({ ...record, id: String(id), job: job.id, tenant: job.tenant, type, ts });
  return parsed.success ? parsed.data : undefined;
}
