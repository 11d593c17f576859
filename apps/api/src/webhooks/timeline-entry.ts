import { encodeTimelineEntry, splitTimelineText, TIMELINE_ENTRY_SEPARATOR, type Broker } from '@conveyor/core';

/** The same approximate cap core's `emit` uses for the global event stream (and used for a stream timeline). */
const EVENTS_MAXLEN = 10_000;
const STREAM_TIMELINE_MAXLEN = 500;

/**
 * Appends a non-state entry (a webhook attempt) to a job's timeline and to the global event stream,
 * in the layouts core's `emit` writes (redis/functions/includes/emit.lua), in one MULTI so both or
 * neither are written. The timeline keeps the job's remaining retention; nothing is written for a
 * job that has already expired. The entry goes onto the timeline in whichever form it has: appended
 * to a short one (a string; it may pass the size at which `emit` makes it a list, and `emit` does
 * so on its next append), pushed onto a list (`emit` trims it to its cap on its next append), or
 * added to a stream written by an older version. APPEND leaves Redis's spare room on the string
 * (up to its length again: ~160 bytes on a typical finished job); `emit` appends the same way but
 * rewrites the string exactly for a job's final entry, and a webhook attempt comes after that one,
 * so a retained job with a webhook keeps the spare room. A job retried at the very
 * moment its webhook is recorded can turn its string into a list in between; that entry then
 * misses the timeline, not the global stream.
 * Returns the timeline entry id, or null when the job is gone.
 */
export async function appendTimelineEntry(
  broker: Broker,
  job: { id: string; tenant: string },
  type: 'webhook',
  fields: Record<string, string | number | undefined>,
): Promise<string | null> {
  const timeline = broker.keys.timeline(job.id);
  const [ttl, form] = await Promise.all([broker.redis.pttl(broker.keys.job(job.id)), broker.redis.type(timeline)]);
  if (ttl === -2 || form === 'none') return null;
  const ts = Date.now();
  const flat = ['job', job.id, 'tenant', job.tenant, 'type', type, 'ts', String(ts)];
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) flat.push(name, String(value));
  const entry = encodeTimelineEntry(job.id, type, ts, fields);
  const multi = broker.redis.multi();
  if (form === 'string') multi.append(timeline, TIMELINE_ENTRY_SEPARATOR + entry).get(timeline);
  else if (form === 'list') multi.rpushx(timeline, entry).lindex(timeline, 0);
  else multi.xadd(timeline, 'MAXLEN', '~', STREAM_TIMELINE_MAXLEN, '*', ...flat);
  multi.xadd(broker.keys.events(), 'MAXLEN', '~', EVENTS_MAXLEN, '*', ...flat);
  if (ttl > 0) multi.pexpire(timeline, ttl);
  const reply = (await multi.exec()) ?? [];
  const [written, after] = [reply[0]?.[1], reply[1]?.[1]];
  if (form === 'string') return typeof after === 'string' ? String(splitTimelineText(after).length) : null;
  // A list's element 0 counts the entries trimmed from its head: the entry at index i has id `trimmed + i`.
  if (form === 'list') return Number(written) > 0 ? String(Number(after ?? 0) + Number(written) - 1) : null;
  return typeof written === 'string' ? written : null;
}
