import type { Redis } from 'ioredis';
import { decodeTimelineEntry, JobEvent } from './schemas/events.ts';

export type EventListener = (event: JobEvent) => void;

/** The keys of one job: its hash and its timeline. */
export interface JobKeys {
  readonly job: string;
  readonly timeline: string;
}

type Replies = [Error | null, unknown][] | null;

/** A MULTI reply's value; an error other than WRONGTYPE (a legacy stream timeline, handled by the caller) is thrown. */
function valueOf<T>(replies: Replies, i: number): T | Error {
  const [err, value] = replies?.[i] ?? [new Error('MULTI was discarded'), null];
  if (err?.message.startsWith('WRONGTYPE')) return err;
  if (err) throw err;
  return value as T;
}

/**
 * Decodes a job's timeline list (see redis/functions/includes/emit.lua): element 0 counts the
 * entries trimmed from its head, and the entry at index i has the id `trimmed + i`. `elements` is
 * the list from index `from` on (from >= 1, when element 0 was read separately as `trimmed`).
 */
function timelineEvents(job: { id: string; tenant: string }, elements: readonly string[], trimmed: number, from = 1): JobEvent[] {
  const events: JobEvent[] = [];
  elements.forEach((entry, k) => {
    const event = decodeTimelineEntry(job, trimmed + from + k, entry);
    if (event) events.push(event);
  });
  return events;
}

/** The entry id a timeline cursor names: 0 (before the first) for none, `-` or a legacy stream id. */
function cursorOf(after: string | undefined): number {
  return after !== undefined && /^\d{1,15}$/.test(after) ? Number(after) : 0;
}

/**
 * A timeline written as a stream before timelines were lists: read as before, with its stream ids
 * as event ids. Drop once every job created before the upgrade has finished and expired.
 */
async function legacyTimeline(redis: Redis, key: string, after: string | undefined): Promise<JobEvent[]> {
  const start = after === undefined || after === '-' ? '-' : `(${after}`;
  return parseStreamEntries((await redis.xrange(key, start, '+')) as [string, string[]][]);
}

/** A job's hash and its whole timeline, read together; null when the job does not exist. */
export async function readJobAndTimeline(redis: Redis, jobId: string, keys: JobKeys): Promise<{ hash: Record<string, string>; timeline: JobEvent[] } | null> {
  const replies = await redis.multi().hgetall(keys.job).lrange(keys.timeline, 0, -1).exec();
  const hash = valueOf<Record<string, string>>(replies, 0);
  if (hash instanceof Error || Object.keys(hash).length === 0) return null;
  const list = valueOf<string[]>(replies, 1);
  if (list instanceof Error) return { hash, timeline: await legacyTimeline(redis, keys.timeline, undefined) };
  const [trimmed, ...entries] = list;
  return { hash, timeline: timelineEvents({ id: jobId, tenant: hash.tenant ?? '' }, entries, Number(trimmed ?? 0)) };
}

/**
 * The timeline entries after the entry id `after` (exclusive; all of them when it is undefined or
 * `-`). One MULTI reads the trimmed count and the entries from where they sit in a timeline that was
 * never trimmed; a timeline past its cap (its positions moved) is read whole. [] when the job is gone.
 */
export async function readTimeline(redis: Redis, jobId: string, keys: JobKeys, after: string | undefined): Promise<JobEvent[]> {
  const from = cursorOf(after) + 1;
  const replies = await redis.multi().hget(keys.job, 'tenant').lindex(keys.timeline, 0).lrange(keys.timeline, from, -1).exec();
  const tenant = valueOf<string | null>(replies, 0);
  if (tenant === null || tenant instanceof Error) return [];
  const head = valueOf<string | null>(replies, 1);
  if (head instanceof Error) return await legacyTimeline(redis, keys.timeline, after);
  const job = { id: jobId, tenant };
  if (Number(head ?? 0) === 0) {
    const page = valueOf<string[]>(replies, 2);
    return page instanceof Error ? [] : timelineEvents(job, page, 0, from);
  }
  const [trimmed, ...entries] = await redis.lrange(keys.timeline, 0, -1);
  const skip = Math.max(0, from - 1 - Number(trimmed ?? 0));
  return timelineEvents(job, entries.slice(skip), Number(trimmed ?? 0), skip + 1);
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
    private readonly connection: Redis,
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
