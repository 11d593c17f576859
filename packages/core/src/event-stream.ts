import type { RedisClient } from './redis-connection.ts';
import { decodeTimelineEntry, JobEvent, splitTimelineText, timelineFieldEntries, type TimelineJob } from './schemas/events.ts';

export type EventListener = (event: JobEvent) => void;

/** The keys of one job: its hash (which holds a short timeline) and its timeline key (a long or older one). */
export interface JobKeys {
  readonly job: string;
  readonly timeline: string;
}

type Replies = [Error | null, unknown][] | null;

/** A MULTI reply's value; WRONGTYPE comes back as the error (the caller tries the timeline's other forms), any other error is thrown. */
function valueOf<T>(replies: Replies, i: number): T | Error {
  const [err, value] = replies?.[i] ?? [new Error('MULTI was discarded'), null];
  if (err?.message.startsWith('WRONGTYPE')) return err;
  if (err) throw err;
  return value as T;
}

/** The job hash fields a timeline is read with: TimelineJob's, and `tl` (where the timeline is). */
const TIMELINE_FIELDS = ['tenant', 'service', 'worker', 'machine', 'attempts', 'tl'] as const;

function timelineJob(id: string, hash: Readonly<Record<string, string | undefined>>): TimelineJob {
  return { id, tenant: hash.tenant ?? '', service: hash.service, worker: hash.worker, machine: hash.machine, attempts: hash.attempts };
}

/** Events of the consecutive stored entries after id `seen`, where entries[k] has id `firstId + k`; malformed entries are skipped. */
function eventsOf(job: TimelineJob, entries: readonly string[], firstId: number, seen = 0): JobEvent[] {
  const skip = Math.max(0, seen + 1 - firstId);
  const events: JobEvent[] = [];
  entries.slice(skip).forEach((entry, k) => {
    const event = decodeTimelineEntry(job, firstId + skip + k, entry);
    if (event) events.push(event);
  });
  return events;
}

/** How many entries a cursor has seen: 0 for none, `-`, or a stream id (which only a stream timeline understands). */
function seenBy(after: string | undefined): number {
  return after !== undefined && /^\d{1,15}$/.test(after) ? Number(after) : 0;
}

/**
 * A timeline written as a stream by an older version: read as before, with its stream ids as event
 * ids. Drop once every job created before the upgrade has finished and expired.
 */
async function legacyTimeline(redis: RedisClient, key: string, after: string | undefined): Promise<JobEvent[]> {
  const start = after === undefined || after === '-' ? '-' : `(${after}`;
  return parseStreamEntries((await redis.xrange(key, start, '+')) as [string, string[]][]);
}

// Where a timeline is (redis/functions/includes/emit.lua): in the job hash's `tl` field (absent: only
// the implicit submit entry), or, when `tl` is '' or absent on a job the previous library wrote, in
// the timeline key: a string, then a list, or an older version's stream. Each read below asks for the
// hash and for the key in every form in one MULTI: GET answers for a string and LINDEX/LRANGE for a
// list, the other failing with WRONGTYPE; both fail for a stream. A key and entries in the field
// both exist only for a job that processes of both versions wrote during a rollout: the field's
// entries follow the key's.

/** The entries of the timeline key from id `firstId`, or undefined when there is no such key. */
function keyEntries(text: string | null | Error, list: string[] | Error): { entries: string[]; firstId: number } | undefined {
  if (typeof text === 'string') return { entries: splitTimelineText(text), firstId: 1 };
  if (list instanceof Error || list.length === 0) return undefined;
  // Element 0 of a list counts the entries trimmed from its head.
  const [trimmed, ...entries] = list;
  return { entries, firstId: Number(trimmed ?? 0) + 1 };
}

/** The timeline after id `seen`, from the key's entries (if any) and the job's `tl` field. */
function timelineOf(job: TimelineJob, tl: string | undefined, kept: { entries: string[]; firstId: number } | undefined, seen = 0): JobEvent[] {
  if (!kept) return eventsOf(job, timelineFieldEntries(tl), 1, seen);
  return eventsOf(job, tl ? [...kept.entries, ...splitTimelineText(tl)] : kept.entries, kept.firstId, seen);
}

/** A job's hash and its whole timeline, read together; null when the job does not exist. */
export async function readJobAndTimeline(redis: RedisClient, jobId: string, keys: JobKeys): Promise<{ hash: Record<string, string>; timeline: JobEvent[] } | null> {
  const replies = await redis.multi().hgetall(keys.job).get(keys.timeline).lrange(keys.timeline, 0, -1).exec();
  const hash = valueOf<Record<string, string>>(replies, 0);
  if (hash instanceof Error || Object.keys(hash).length === 0) return null;
  const text = valueOf<string | null>(replies, 1);
  const list = valueOf<string[]>(replies, 2);
  if (text instanceof Error && list instanceof Error) return { hash, timeline: await legacyTimeline(redis, keys.timeline, undefined) };
  return { hash, timeline: timelineOf(timelineJob(jobId, hash), hash.tl, keyEntries(text, list)) };
}

/**
 * The timeline entries after the entry id `after` (exclusive; all of them when it is undefined or
 * `-`); [] when the job is gone. A list is read from where the entry after `after` sits when nothing
 * was ever trimmed from it; one past its cap (positions moved) is read whole.
 */
export async function readTimeline(redis: RedisClient, jobId: string, keys: JobKeys, after: string | undefined): Promise<JobEvent[]> {
  const seen = seenBy(after);
  const replies = await redis
    .multi()
    .hmget(keys.job, ...TIMELINE_FIELDS)
    .get(keys.timeline)
    .lindex(keys.timeline, 0)
    .lrange(keys.timeline, seen + 1, -1)
    .exec();
  const values = valueOf<(string | null)[]>(replies, 0);
  if (values instanceof Error || values[0] === null || values[0] === undefined) return [];
  const hash = Object.fromEntries(TIMELINE_FIELDS.map((name, i) => [name, values[i] ?? undefined]));
  const job = timelineJob(jobId, hash);
  const text = valueOf<string | null>(replies, 1);
  const head = valueOf<string | null>(replies, 2);
  if (text instanceof Error && head instanceof Error) return await legacyTimeline(redis, keys.timeline, after);
  if (typeof text === 'string' || head === null || head instanceof Error) return timelineOf(job, hash.tl, keyEntries(text, []), seen);
  if (Number(head) === 0 && !hash.tl) {
    const page = valueOf<string[]>(replies, 3);
    return page instanceof Error ? [] : eventsOf(job, page, seen + 1);
  }
  return timelineOf(job, hash.tl, keyEntries(null, await redis.lrange(keys.timeline, 0, -1)), seen);
}

/** Decodes stream entries ([id, [field, value, ...]]) into events; malformed entries are skipped. */
export function parseStreamEntries(entries: readonly [string, string[]][]): JobEvent[] {
  const events: JobEvent[] = [];
  for (const [id, flat] of entries) {
    const record: Record<string, string> = { id };
    for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i] as string] = flat[i + 1] as string;
    const parsed = JobEvent.safeParse(record);
    if (parsed.success) events.push(parsed.data);
  }
  return events;
}

/**
 * One blocking XREAD loop over the global event stream per process, fanned out to any number of
 * listeners, so a hundred monitors cost one Redis connection.
 */
export class EventStream {
  private readonly listeners = new Set<EventListener>();
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly connection: RedisClient,
    private readonly key: string,
  ) {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    if (!this.running) {
      this.running = true;
      this.loop = this.read();
    }
    return () => this.listeners.delete(listener);
  }

  private async read(): Promise<void> {
    let cursor = '$';
    while (this.running) {
      try {
        const reply = (await this.connection.xread('COUNT', 500, 'BLOCK', 1000, 'STREAMS', this.key, cursor)) as
          | [string, [string, string[]][]][]
          | null;
        const entries = reply?.[0]?.[1] ?? [];
        const last = entries.at(-1);
        if (last) cursor = last[0];
        for (const event of parseStreamEntries(entries)) for (const listener of this.listeners) listener(event);
      } catch {
        if (this.running) await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async close(): Promise<void> {
    this.running = false;
    this.connection.disconnect();
    await this.loop;
  }
}
