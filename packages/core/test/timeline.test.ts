import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { decodeTimelineEntry, splitTimelineText, type Broker } from '../src/index.ts';
import { useRedis, worker } from './helpers.ts';

const redis = useRedis();

/** The commands `action` runs on `key` (inner commands of functions included), lower-cased, read with MONITOR. */
async function commandsOn(broker: Broker, key: string, action: () => Promise<unknown>): Promise<string[]> {
  const monitor = await (broker.redis as Redis).monitor();
  const seen: string[] = [];
  const marker = `end-${key}`;
  const done = new Promise<void>((resolve) =>
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'echo' && args[1] === marker) resolve();
      else if (args[1] === key) seen.push(String(args[0]).toLowerCase());
    }),
  );
  try {
    await action();
    await broker.redis.echo(marker);
    await done;
    return seen;
  } finally {
    monitor.disconnect();
  }
}

/** MEMORY USAGE of a key (all of it: no sampling). */
const bytesOf = async (broker: Broker, key: string): Promise<number> => Number(await broker.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', 0));

describe('a job timeline', () => {
  it('numbers its entries 1, 2, 3 … and reads them from any entry id', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, tenant: 'acme' });
    const [c] = await broker.claim(broker.identify(worker('w1')), 1);
    await broker.progress(c!.lease, { percent: 50, message: 'half' });
    await broker.complete(c!.lease, { ok: true });

    const found = await broker.get(id);
    const timeline = found?.timeline ?? [];
    expect(timeline.map((e) => [e.id, e.type])).toEqual([
      ['1', 'pending'],
      ['2', 'active'],
      ['3', 'progress'],
      ['4', 'completed'],
    ]);
    expect(timeline[0]).toEqual({ id: '1', job: id, tenant: 'acme', type: 'pending', ts: found?.job.createdAt, service: 'sim' });
    expect(timeline[1]).toMatchObject({ worker: 'w1', machine: 'm1', attempt: 1 });
    expect(timeline[2]?.progress).toEqual({ percent: 50, message: 'half' });
    expect(timeline[3]?.ts).toBe(found?.job.finishedAt);

    expect(await broker.timeline(id)).toEqual(timeline);
    expect(await broker.timeline(id, '-')).toEqual(timeline);
    expect(await broker.timeline(id, '2')).toEqual(timeline.slice(2));
    expect(await broker.timeline(id, '4')).toEqual([]);
    expect(await broker.timeline('1795000000000-0000000000')).toEqual([]);

    // The global stream carries the same events, with their own (stream) ids.
    const global = (await broker.redis.xrange(broker.keys.events(), '-', '+')).map(([, f]) => f[f.indexOf('type') + 1]);
    expect(global).toEqual(['pending', 'active', 'progress', 'completed']);
  });

  it('costs what its entries cost: a short timeline is one string, a longer one a list', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const key = broker.keys.timeline(id);
    expect(await broker.redis.type(key)).toBe('string');
    const bytes = Number(await broker.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', 0));
    expect(bytes).toBeLessThan(160);

    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.redis.pexpire(key, 60_000); // as a finished job's timeline has: rewrites and the move to a list keep it
    for (let i = 1; (await broker.redis.type(key)) === 'string'; i++) {
      await broker.progress(c!.lease, { percent: i, message: 'x'.repeat(40) });
      expect(await broker.redis.pttl(key)).toBeGreaterThan(0);
    }
    expect(await broker.redis.pttl(key)).toBeGreaterThan(0);
    const timeline = await broker.timeline(id);
    expect(timeline.map((e) => e.id)).toEqual(timeline.map((_, i) => String(i + 1)));
    expect(timeline.slice(0, 3).map((e) => e.type)).toEqual(['pending', 'active', 'progress']);
    expect(timeline.at(-1)?.progress?.percent).toBe(timeline.length - 2);
    expect((await broker.timeline(id, '2')).map((e) => e.id)).toEqual(timeline.slice(2).map((e) => e.id));
  });

  it('takes one command per event while a string, and is left exactly sized when its job finishes', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const key = broker.keys.timeline(id);
    const createdAt = (await broker.get(id))?.job.createdAt ?? 0;
    expect(await broker.redis.get(key)).toBe(`\x1e${createdAt - Number(id.slice(0, 13))}\x1fpending\x1fservice\x1fsim`);
    let c: Awaited<ReturnType<Broker['claim']>>[number] | undefined;
    expect(await commandsOn(broker, key, async () => ([c] = await broker.claim(broker.identify(worker('w')), 1)))).toEqual(['append']);
    expect(await commandsOn(broker, key, () => broker.progress(c!.lease, { percent: 10 }))).toEqual(['append']);
    // `finish` sets the retention, then the entry rewrites the string: APPEND's spare room would stay as long.
    expect(await commandsOn(broker, key, () => broker.complete(c!.lease, null))).toEqual(['pexpire', 'get', 'set']);
    const bytes = await bytesOf(broker, key);
    await broker.redis.set(key, (await broker.redis.get(key)) ?? '', 'KEEPTTL'); // written exactly
    expect(bytes).toBe(await bytesOf(broker, key));
    expect(await broker.redis.pttl(key)).toBeGreaterThan(0);
    expect((await broker.timeline(id)).map((e) => [e.id, e.type])).toEqual([
      ['1', 'pending'],
      ['2', 'active'],
      ['3', 'progress'],
      ['4', 'completed'],
    ]);
  });

  it('becomes a list when the final entry of its job outgrows the string, with its ids and expiry', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id } = await broker.submit({ service: 'sim', payload: {}, maxAttempts: 1 });
    const key = broker.keys.timeline(id);
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.progress(c!.lease, { percent: 1, message: 'x'.repeat(200) });
    expect(await broker.redis.type(key)).toBe('string');
    await broker.fail(c!.lease, { code: 'X', message: 'y'.repeat(200), retryable: false });
    expect(await broker.redis.type(key)).toBe('list');
    expect(await broker.redis.pttl(key)).toBeGreaterThan(0);
    expect((await broker.timeline(id)).map((e) => [e.id, e.type])).toEqual([
      ['1', 'pending'],
      ['2', 'active'],
      ['3', 'progress'],
      ['4', 'failed'],
    ]);
  });

  it('reads and appends to a string written by the version before (no separator ahead of its first entry)', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const key = broker.keys.timeline(id);
    const stored = await broker.redis.get(key);
    await broker.redis.set(key, stored?.slice(1) ?? '');
    expect((await broker.timeline(id)).map((e) => [e.id, e.type])).toEqual([['1', 'pending']]);
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.complete(c!.lease, null);
    expect(splitTimelineText((await broker.redis.get(key)) ?? '')).toHaveLength(3);
    expect((await broker.timeline(id)).map((e) => [e.id, e.type])).toEqual([
      ['1', 'pending'],
      ['2', 'active'],
      ['3', 'completed'],
    ]);
    expect((await broker.timeline(id, '1')).map((e) => e.id)).toEqual(['2', '3']);
  });

  it('keeps the last 500 entries past its cap, with unchanged ids, and resumes across the trim', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await Promise.all(Array.from({ length: 600 }, (_, i) => broker.progress(c!.lease, { percent: i % 101, message: `step ${i + 1}` })));

    // pending (1), active (2), progress 3..602: the first 102 were trimmed.
    const timeline = (await broker.get(id))?.timeline ?? [];
    expect(timeline).toHaveLength(500);
    expect(timeline[0]).toMatchObject({ id: '103', type: 'progress', progress: { message: 'step 101' } });
    expect(timeline.at(-1)).toMatchObject({ id: '602', progress: { message: 'step 600' } });
    expect(await broker.redis.llen(broker.keys.timeline(id))).toBe(501);

    expect(await broker.timeline(id)).toEqual(timeline);
    expect(await broker.timeline(id, '50')).toEqual(timeline);
    expect((await broker.timeline(id, '600')).map((e) => e.id)).toEqual(['601', '602']);
    await broker.complete(c!.lease, null);
    expect((await broker.timeline(id, '602')).map((e) => [e.id, e.type])).toEqual([['603', 'completed']]);
  });

  it('expires with a finished job and stays while the job is retried', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id } = await broker.submit({ service: 'sim', payload: {}, maxAttempts: 1 });
    const w = broker.identify(worker('w'));
    const [c] = await broker.claim(w, 1);
    await broker.fail(c!.lease, { code: 'X', message: 'no', retryable: false });
    expect(await broker.redis.pttl(broker.keys.timeline(id))).toBeGreaterThan(0);
    await broker.retry(id);
    expect(await broker.redis.pttl(broker.keys.timeline(id))).toBe(-1);
    expect((await broker.timeline(id)).map((e) => [e.id, e.type])).toEqual([
      ['1', 'pending'],
      ['2', 'active'],
      ['3', 'failed'],
      ['4', 'pending'],
    ]);
  });

  it('takes a note (a webhook attempt) through the same writer: next id, server time, a separator byte in a value made a space, the job\'s expiry kept', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.complete(c!.lease, null);
    const before = Date.now();
    expect(await broker.note(id, 'webhook', { delivery: 'retrying', httpStatus: 503, reason: 'a\x1fb\x1ec', dueAt: undefined })).toBe(true);
    const last = (await broker.timeline(id, '3'))[0];
    expect(last).toMatchObject({ id: '4', type: 'webhook', job: id, tenant: 'default', delivery: 'retrying', httpStatus: 503, reason: 'a b c' });
    expect(last?.ts).toBeGreaterThanOrEqual(before - 1_000);
    expect(last).not.toHaveProperty('dueAt');
    const global = await broker.redis.xrevrange(broker.keys.events(), '+', '-', 'COUNT', 1);
    expect(global[0]?.[1]).toEqual(expect.arrayContaining(['type', 'webhook', 'delivery', 'retrying']));
    expect(await broker.redis.pttl(broker.keys.timeline(id))).toBeGreaterThan(0);
  });

  it('writes no note for a job that is gone', async () => {
    const broker = await redis.broker();
    const id = '1795000000000-0000000042';
    expect(await broker.note(id, 'webhook', { delivery: 'delivered' })).toBe(false);
    expect(await broker.redis.exists(broker.keys.timeline(id))).toBe(0);
  });

  it('goes on reading and writing a timeline written as a stream by an older version', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const key = broker.keys.timeline(id);
    await broker.redis.del(key);
    const first = await broker.redis.xadd(key, '*', 'job', id, 'tenant', 'default', 'type', 'pending', 'ts', '1', 'service', 'sim');
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.complete(c!.lease, 7);

    expect(await broker.redis.type(key)).toBe('stream');
    const timeline = (await broker.get(id))?.timeline ?? [];
    expect(timeline.map((e) => e.type)).toEqual(['pending', 'active', 'completed']);
    expect(timeline[0]?.id).toBe(first);
    expect((await broker.timeline(id, first ?? '')).map((e) => e.type)).toEqual(['active', 'completed']);
    expect(await broker.redis.pttl(key)).toBeGreaterThan(0);
  });
});

describe('a stored timeline entry', () => {
  const job = { id: '1795000000000-0000000007', tenant: 'acme' };

  it('stores ts relative to the job id and reads back every field', () => {
    const entry = '250\x1fwebhook\x1fdelivery\x1fretrying\x1fhttpStatus\x1f503\x1freason\x1fHTTP 503';
    expect(decodeTimelineEntry(job, 9, entry)).toEqual({ id: '9', job: job.id, tenant: 'acme', type: 'webhook', ts: 1795000000250, delivery: 'retrying', httpStatus: 503, reason: 'HTTP 503' });
  });

  it('skips a malformed entry', () => {
    expect(decodeTimelineEntry(job, 1, 'x\x1fpending')).toBeUndefined();
    expect(decodeTimelineEntry(job, 1, '0\x1fno-such-type')).toBeUndefined();
  });
});
