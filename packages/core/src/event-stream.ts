import type { RedisClient } from './redis-connection.ts';
import { decodeTimelineEntry, JobEvent, splitTimelineText } from './schemas/events.ts';

export type EventListener = (event: JobEvent) => void;

/** The keys of one job: its hash and its timeline. */
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

/** Events of consecutive stored entries, the first with id `firstId`; malformed entries are skipped. */
function eventsOf(job: { id: string; tenant: string }, entries: readonly string[], firstId: number): JobEvent[] {
  const events: JobEvent[] = [];
  entries.forEach((entry, k) => {
    const event = decodeTimelineEntry(job, firstId + k, entry);
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

// A timeline (redis/functions/includes/emit.lua) is a string while short and a list once longer, so
// each read below asks for both in one MULTI: GET answers for a string and LRANGE/LINDEX for a list,
// the other failing with WRONGTYPE; both fail for a stream timeline from before.

/** A job's hash and its whole timeline, read together; null when the job does not exist. */
export async function readJobAndTimeline(redis: RedisClient, jobId: string, keys: JobKeys): Promise<{ hash: Record<string, string>; timeline: JobEvent[] } | null> {
  const replies = await redis.multi().hgetall(keys.job).get(keys.timeline).lrange(keys.timeline, 0, -1).exec();
  const hash = valueOf<Record<string, string>>(replies, 0);
  if (hash instanceof Error || Object.keys(hash).length === 0) return null;
  const job = { id: jobId, tenant: hash.tenant ?? '' };
  const text = valueOf<string | null>(replies, 1);
  if (typeof text === 'string') return { hash, timeline: eventsOf(job, splitTimelineText(text), 1) };
  const list = valueOf<string[]>(replies, 2);
  if (list instanceof Error) return { hash, timeline: await legacyTimeline(redis, keys.timeline, undefined) };
  // Element 0 of a list counts the entries trimmed from its head.
  const [trimmed, ...entries] = list;
  return { hash, timeline: eventsOf(job, entries, Number(trimmed ?? 0) + 1) };
}

/**
 * The timeline entries after the entry id `after` (exclusive; all of them when it is undefined or
 * `-`); [] when the job is gone. A list is read from where the entry after `after` sits when nothing
 * was ever trimmed from it; one past its cap (positions moved) is read whole.
 */
export async function readTimeline(redis: RedisClient, jobId: string, keys: JobKeys, after: string | undefined): Promise<JobEvent[]> {
  const seen = seenBy(after);
  const replies = await redis.multi().hget(keys.job, 'tenant').get(keys.timeline).lindex(keys.timeline, 0).lrange(keys.timeline, seen + 1, -1).exec();
  const tenant = valueOf<string | null>(replies, 0);
  if (tenant === null || tenant instanceof Error) return [];
  const job = { id: jobId, tenant };
  const text = valueOf<string | null>(replies, 1);
  if (typeof text === 'string') return eventsOf(job, splitTimelineText(text).slice(seen), seen + 1);
  const head = valueOf<string | null>(replies, 2);
  if (head instanceof Error) return await legacyTimeline(redis, keys.timeline, after);
  if (Number(head ?? 0) === 0) {
    const page = valueOf<string[]>(replies, 3);
    return page instanceof Error ? [] : eventsOf(job, page, seen + 1);
  }
  const [trimmed, ...entries] = await redis.lrange(keys.timeline, 0, -1);
  const skip = Math.max(0, seen - Number(trimmed ?? 0));
  return eventsOf(job, entries.slice(skip), Number(trimmed ?? 0) + skip + 1);
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
