import type { Broker } from '@conveyor/core';

/** The same approximate caps core's `emit` uses for a timeline and for the global event stream. */
const TIMELINE_MAXLEN = 500;
const EVENTS_MAXLEN = 10_000;

/**
 * Appends a non-state entry (a webhook attempt) to a job's timeline and to the global event stream,
 * with the field layout of core's `emit`, in one MULTI so both or neither are written. The timeline
 * keeps the job's remaining retention; nothing is written for a job that has already expired.
 * Returns the timeline entry id, or null when the job is gone.
 */
export async function appendTimelineEntry(
  broker: Broker,
  job: { id: string; tenant: string },
  type: 'webhook',
  fields: Record<string, string | number | undefined>,
): Promise<string | null> {
  const ttl = await broker.redis.pttl(broker.keys.job(job.id));
  if (ttl === -2) return null;
  const flat = ['job', job.id, 'tenant', job.tenant, 'type', type, 'ts', String(Date.now())];
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) flat.push(name, String(value));
  const timeline = broker.keys.timeline(job.id);
  const multi = broker.redis
    .multi()
    .xadd(timeline, 'MAXLEN', '~', TIMELINE_MAXLEN, '*', ...flat)
    .xadd(broker.keys.events(), 'MAXLEN', '~', EVENTS_MAXLEN, '*', ...flat);
  if (ttl > 0) multi.pexpire(timeline, ttl);
  const reply = await multi.exec();
  return (reply?.[0]?.[1] as string | undefined) ?? null;
}
