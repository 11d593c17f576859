import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { decodeTimelineEntry, splitTimelineText, timelineFieldEntries, type Broker } from '../src/index.ts';
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

/** The job hash's timeline field (redis/functions/includes/emit.lua); null when absent. */
const field = async (broker: Broker, id: string): Promise<string | null> => await broker.redis.hget(broker.keys.job(id), 'tl');
/** A stored entry's ts field: ms since the job's id. */
const offset = (id: string, ts: number | undefined): number => (ts ?? 0) - Number(id.slice(0, 13));

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
    expect(timeline[1]).toEqual({ id: '2', job: id, tenant: 'acme', type: 'active', ts: found?.job.startedAt, worker: 'w1', machine: 'm1', attempt: 1 });
    expect(timeline[2]?.progress).toEqual({ percent: 50, message: 'half' });
    expect(timeline[3]?.ts).toBe(found?.job.finishedAt);

    expect(await broker.timeline(id)).toEqual(timeline);
    expect(await broker.timeline(id, '-')).toEqual(timeline);
    expect(await broker.timeline(id, '2')).toEqual(timeline.slice(2));
    expect(await broker.timeline(id, '4')).toEqual([]);
    expect(await broker.timeline('1795000000000-0000000000')).toEqual([]);

    // The global stream carries the same events, whole (service, worker, attempt), with their own ids.
    const global = await broker.redis.xrange(broker.keys.events(), '-', '+');
    expect(global.map(([, f]) => f[f.indexOf('type') + 1])).toEqual(['pending', 'active', 'progress', 'completed']);
    expect(global[0]?.[1]).toEqual(expect.arrayContaining(['service', 'sim']));
    expect(global[1]?.[1]).toEqual(expect.arrayContaining(['worker', 'w1', 'machine', 'm1', 'attempt', '1']));
  });

  it('stores nothing for a pending job: its first entry is implicit, from the job hash', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, tenant: 'acme' });
    expect(await broker.redis.exists(broker.keys.timeline(id))).toBe(0);
    expect(await broker.redis.hkeys(broker.keys.job(id))).not.toContain('tl');
    const createdAt = (await broker.get(id))?.job.createdAt;
    expect(await broker.timeline(id)).toEqual([{ id: '1', job: id, tenant: 'acme', type: 'pending', ts: createdAt, service: 'sim' }]);
    expect(await broker.timeline(id, '1')).toEqual([]);
  });

  it('stores a delayed submit\'s entry (its dueAt is not the job\'s for long), as entry 1', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, delayMs: 1 });
    const dueAt = (await broker.get(id))?.job.dueAt ?? 0;
    expect(await field(broker, id)).toBe(`\x1e0\x1fdelayed\x1fdueAt\x1f${dueAt}`);
    await new Promise((r) => setTimeout(r, 5));
    await broker.promote();
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.complete(c!.lease, null);
    const timeline = await broker.timeline(id);
    expect(timeline.map((e) => [e.id, e.type])).toEqual([
      ['1', 'delayed'],
      ['2', 'pending'],
      ['3', 'active'],
      ['4', 'completed'],
    ]);
    expect(timeline[0]).toMatchObject({ service: 'sim', dueAt });
    expect(timeline[1]).toMatchObject({ service: 'sim', reason: 'due' });
    // Past 64 bytes it moved to the key, where the delayed entry is still the first.
    expect(splitTimelineText((await broker.redis.get(broker.keys.timeline(id))) ?? '')[0]).toBe(`0\x1fdelayed\x1fdueAt\x1f${dueAt}`);
  });

  it('keeps later entries in the job hash, written by each transition\'s own HSET: no command on a timeline key', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const key = broker.keys.timeline(id);
    let c: Awaited<ReturnType<Broker['claim']>>[number] | undefined;
    expect(await commandsOn(broker, key, async () => ([c] = await broker.claim(broker.identify(worker('a-long-worker-id-0')), 1)))).toEqual([]);
    // The active entry is stored bare: its worker, machine and attempt are the job's own fields.
    const started = (await broker.get(id))?.job.startedAt;
    expect(await field(broker, id)).toBe(`\x1e${offset(id, started)}\x1factive`);
    expect(await commandsOn(broker, key, () => broker.progress(c!.lease, { percent: 10 }))).toEqual([]);
    expect(await commandsOn(broker, key, () => broker.complete(c!.lease, null))).toEqual([]);
    const timeline = await broker.timeline(id);
    expect(await field(broker, id)).toBe(
      `\x1e${offset(id, started)}\x1factive\x1e${offset(id, timeline[2]?.ts)}\x1fprogress\x1fprogress\x1f{"percent":10}\x1e${offset(id, timeline[3]?.ts)}\x1fcompleted`,
    );
    expect(timeline.map((e) => [e.id, e.type])).toEqual([
      ['1', 'pending'],
      ['2', 'active'],
      ['3', 'progress'],
      ['4', 'completed'],
    ]);
    expect(timeline[1]).toMatchObject({ worker: 'a-long-worker-id-0', machine: 'm1', attempt: 1 });
    expect(await broker.redis.exists(key)).toBe(0);
    // Short enough to keep a small job's hash a compact listpack.
    expect(await broker.redis.object('ENCODING', broker.keys.job(id))).toBe('listpack');
  });

  it('moves past 64 bytes into the key (the job hash stays a listpack), a string then a list, with its ids and the job\'s expiry', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const key = broker.keys.timeline(id);
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    let before = await broker.timeline(id);
    for (let i = 1; (await broker.redis.exists(key)) === 0; i++) {
      before = await broker.timeline(id);
      await broker.progress(c!.lease, { percent: i });
    }
    expect(before.length).toBeGreaterThan(2);
    expect(await field(broker, id)).toBe('');
    expect(await broker.redis.object('ENCODING', broker.keys.job(id))).toBe('listpack');
    let after = await broker.timeline(id);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.map((e) => e.id)).toEqual(after.map((_, i) => String(i + 1)));
    // The implicit entry and the bare active entry are written out.
    expect(splitTimelineText((await broker.redis.get(key)) ?? '').slice(0, 2)).toEqual([
      '0\x1fpending',
      `${offset(id, after[1]?.ts)}\x1factive\x1fworker\x1fw\x1fmachine\x1fm1\x1fattempt\x1f1`,
    ]);
    expect(await broker.redis.pttl(key)).toBe(-1);

    // Past 512 bytes a list, whose element 0 counts the entries trimmed from its head.
    for (let i = 1; (await broker.redis.type(key)) === 'string'; i++) await broker.progress(c!.lease, { percent: i % 101, message: 'x'.repeat(40) });
    expect(await broker.redis.lrange(key, 0, 1)).toEqual(['0', '0\x1fpending']);
    after = await broker.timeline(id);
    expect(after.map((e) => e.id)).toEqual(after.map((_, i) => String(i + 1)));
    expect(after.slice(0, before.length)).toEqual(before);

    await broker.complete(c!.lease, null);
    expect(await broker.redis.pttl(key)).toBeGreaterThan(0);
    expect(await broker.redis.pttl(broker.keys.job(id))).toBeGreaterThan(0);
    expect((await broker.timeline(id, String(after.length))).map((e) => [e.id, e.type])).toEqual([[String(after.length + 1), 'completed']]);

    // A retried job keeps both.
    await broker.redis.hset(broker.keys.job(id), 'status', 'failed');
    await broker.retry(id);
    expect(await broker.redis.pttl(key)).toBe(-1);
    expect(await broker.redis.pttl(broker.keys.job(id))).toBe(-1);
    expect((await broker.timeline(id)).at(-1)).toMatchObject({ id: String(after.length + 2), type: 'pending', reason: 'retry' });
  });

  it('moves to the key with the job\'s expiry when it outgrows the field of a finished job (a note)', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.complete(c!.lease, null);
    await broker.note(id, 'webhook', { delivery: 'gave-up', reason: 'the receiver answered 410 Gone' });
    expect(await field(broker, id)).toBe('');
    expect(await broker.redis.pttl(broker.keys.timeline(id))).toBeGreaterThan(0);
    expect((await broker.timeline(id)).map((e) => [e.id, e.type])).toEqual([
      ['1', 'pending'],
      ['2', 'active'],
      ['3', 'completed'],
      ['4', 'webhook'],
    ]);
  });

  it('keeps up to 512 bytes in the field when the job hash is a hashtable anyway (a large payload)', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: 'x'.repeat(100) });
    expect(await broker.redis.object('ENCODING', broker.keys.job(id))).toBe('hashtable');
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    for (let i = 1; (await broker.redis.exists(broker.keys.timeline(id))) === 0; i++) {
      expect((await field(broker, id))?.length).toBeLessThanOrEqual(512);
      await broker.progress(c!.lease, { percent: i % 101 });
    }
    const timeline = await broker.timeline(id);
    expect(timeline.length).toBeGreaterThan(15);
    expect(timeline.map((e) => e.id)).toEqual(timeline.map((_, i) => String(i + 1)));
  });

  it('gives a bare active entry its run before the run\'s fields change: a second run, a take-back, a retry', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 0 } });
    const [first] = await broker.claim(broker.identify(worker('w1')), 1);
    await broker.fail(first!.lease, { code: 'X', message: 'again', retryable: true });
    await broker.promote();
    await broker.claim(broker.identify(worker('w2', { machineId: 'm2' })), 1);
    await broker.release('w2');
    const [third] = await broker.claim(broker.identify(worker('w3')), 1);
    await broker.fail(third!.lease, { code: 'X', message: 'no', retryable: false });
    await broker.retry(id);
    const runs = (await broker.timeline(id)).filter((e) => e.type === 'active').map((e) => [e.worker, e.machine, e.attempt]);
    // The released run's attempt was given back, so the next run is attempt 2 again.
    expect(runs).toEqual([
      ['w1', 'm1', 1],
      ['w2', 'm2', 2],
      ['w3', 'm1', 2],
    ]);
    expect((await broker.timeline(id)).map((e) => e.type)).toEqual([
      'pending', 'active', 'retrying', 'pending', 'active', 'lease-released', 'pending', 'active', 'failed', 'pending',
    ]);
  });

  it('expires with its finished job: one key while in the hash', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    let c: Awaited<ReturnType<Broker['claim']>>[number] | undefined;
    // The claim reads the job once, before it changes it, and writes its timeline entry with its fields.
    expect(await commandsOn(broker, broker.keys.job(id), async () => ([c] = await broker.claim(broker.identify(worker('w')), 1)))).toEqual(['hgetall', 'hset']);
    expect(await commandsOn(broker, broker.keys.job(id), () => broker.complete(c!.lease, 1))).toEqual(['hmget', 'hset', 'pexpire']);
    expect(await broker.redis.pttl(broker.keys.job(id))).toBeGreaterThan(0);
    expect(await broker.redis.exists(broker.keys.timeline(id))).toBe(0);
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

  it('takes a note (a webhook attempt) through the same writer: next id, server time, a separator byte in a value made a space, the job\'s expiry kept', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    // A job with a webhook has a hash that is a hashtable already (its URL and secret): its timeline stays in the field.
    const webhook = { url: 'https://hooks.example.com/conveyor/deliveries', secret: 's'.repeat(32) };
    const { id } = await broker.submit({ service: 'sim', payload: {}, webhook });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.complete(c!.lease, null);
    const before = Date.now();
    const written = await commandsOn(broker, broker.keys.job(id), () =>
      broker.note(id, 'webhook', { delivery: 'retrying', httpStatus: 503, reason: 'a\x1fb\x1ec', dueAt: undefined }),
    );
    expect(written).toEqual(['hmget', 'hset']);
    expect((await field(broker, id))?.endsWith('\x1fwebhook\x1fdelivery\x1fretrying\x1fhttpStatus\x1f503\x1freason\x1fa b c')).toBe(true);
    const last = (await broker.timeline(id, '3'))[0];
    expect(last).toMatchObject({ id: '4', type: 'webhook', job: id, tenant: 'default', delivery: 'retrying', httpStatus: 503, reason: 'a b c' });
    expect(last?.ts).toBeGreaterThanOrEqual(before - 1_000);
    expect(last).not.toHaveProperty('dueAt');
    const global = await broker.redis.xrevrange(broker.keys.events(), '+', '-', 'COUNT', 1);
    expect(global[0]?.[1]).toEqual(expect.arrayContaining(['type', 'webhook', 'delivery', 'retrying']));
    expect(await broker.redis.pttl(broker.keys.job(id))).toBeGreaterThan(0);
  });

  it('writes no note for a job that is gone', async () => {
    const broker = await redis.broker();
    const id = '1795000000000-0000000042';
    expect(await broker.note(id, 'webhook', { delivery: 'delivered' })).toBe(false);
    expect(await broker.redis.exists(broker.keys.timeline(id))).toBe(0);
    expect(await broker.redis.exists(broker.keys.job(id))).toBe(0);
  });

  it('is never a field of the job record: not in a claimed job, a read job or a listed one', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    expect(await field(broker, id)).not.toBeNull();
    const read = (await broker.get(id))?.job;
    // The claim returns the job as stored, less its timeline.
    expect(c?.job).toEqual(read);
    expect(read).not.toHaveProperty('tl');
    await broker.complete(c!.lease, null);
    expect((await broker.get(id))?.job).not.toHaveProperty('tl');
    expect((await broker.list({ status: 'completed' })).jobs[0]).not.toHaveProperty('tl');
  });
});

describe('a timeline the previous library (conveyor_v4) wrote', () => {
  /** A pending job as conveyor_v4 left it: a `createdAt` field, no `tl` field, its timeline in the key, submit entry included. */
  async function legacyJob(broker: Broker, timeline: (key: string) => Promise<unknown>): Promise<string> {
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await broker.redis.hset(broker.keys.job(id), 'createdAt', id.slice(0, 13));
    await timeline(broker.keys.timeline(id));
    return id;
  }

  it('reads and appends to its string, and expires it with the job (with or without a separator ahead of the first entry)', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    for (const first of ['\x1e', '']) {
      const id = await legacyJob(broker, (key) => broker.redis.set(key, `${first}0\x1fpending\x1fservice\x1fsim`));
      const key = broker.keys.timeline(id);
      expect((await broker.timeline(id)).map((e) => [e.id, e.type, e.service])).toEqual([['1', 'pending', 'sim']]);
      let c: Awaited<ReturnType<Broker['claim']>>[number] | undefined;
      expect(await commandsOn(broker, key, async () => ([c] = await broker.claim(broker.identify(worker('w')), 1)))).toEqual(['exists', 'append']);
      expect(await field(broker, id)).toBe('');
      expect(await commandsOn(broker, key, () => broker.complete(c!.lease, null))).toEqual(['get', 'set', 'pexpire']);
      expect(splitTimelineText((await broker.redis.get(key)) ?? '')).toHaveLength(3);
      expect((await broker.timeline(id)).map((e) => [e.id, e.type])).toEqual([
        ['1', 'pending'],
        ['2', 'active'],
        ['3', 'completed'],
      ]);
      expect((await broker.timeline(id, '1')).map((e) => e.id)).toEqual(['2', '3']);
      expect((await broker.timeline(id))[1]).toMatchObject({ worker: 'w', machine: 'm1', attempt: 1 });
      expect(await broker.redis.pttl(key)).toBeGreaterThan(0);
    }
  });

  it('appends to its list', async () => {
    const broker = await redis.broker();
    const id = await legacyJob(broker, (key) => broker.redis.rpush(key, '0', '0\x1fpending\x1fservice\x1fsim', '5\x1factive\x1fworker\x1fold\x1fmachine\x1fm0\x1fattempt\x1f1', '9\x1flease-expired\x1fworker\x1fold'));
    // As the previous library left a job it took back: pending again, with its history in the key.
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.complete(c!.lease, null);
    expect((await broker.timeline(id)).map((e) => [e.id, e.type, e.worker])).toEqual([
      ['1', 'pending', undefined],
      ['2', 'active', 'old'],
      ['3', 'lease-expired', 'old'],
      ['4', 'active', 'w'],
      ['5', 'completed', undefined],
    ]);
    expect((await broker.timeline(id, '3')).map((e) => e.id)).toEqual(['4', '5']);
    expect(await broker.redis.llen(broker.keys.timeline(id))).toBe(6);
  });

  it('keeps using the key for a job that has left pending, without looking for it', async () => {
    const broker = await redis.broker();
    const id = await legacyJob(broker, (key) => broker.redis.set(key, '\x1e0\x1fpending\x1fservice\x1fsim'));
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    // As the previous library left an active job: no `tl` field, its timeline in the key.
    await broker.redis.hdel(broker.keys.job(id), 'tl');
    await broker.redis.set(broker.keys.timeline(id), '\x1e0\x1fpending\x1fservice\x1fsim\x1e3\x1factive\x1fworker\x1fw\x1fmachine\x1fm1\x1fattempt\x1f1');
    expect(await commandsOn(broker, broker.keys.timeline(id), () => broker.progress(c!.lease, { percent: 5 }))).toEqual(['append']);
    expect(await field(broker, id)).toBe('');
    expect((await broker.timeline(id)).map((e) => e.type)).toEqual(['pending', 'active', 'progress']);
  });

  it('keeps a delayed job\'s and a finished job\'s in the key: promoted, noted, retried, expired with the job', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id: delayed } = await broker.submit({ service: 'sim', payload: {}, delayMs: 1 });
    await broker.redis.hdel(broker.keys.job(delayed), 'tl');
    await broker.redis.set(broker.keys.timeline(delayed), '\x1e0\x1fdelayed\x1fservice\x1fsim\x1fdueAt\x1f1');
    await new Promise((r) => setTimeout(r, 5));
    await broker.promote();
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.fail(c!.lease, { code: 'X', message: 'no', retryable: false });
    expect(await broker.redis.pttl(broker.keys.timeline(delayed))).toBeGreaterThan(0);
    // As the previous library left a finished job: no `tl` field.
    await broker.redis.hdel(broker.keys.job(delayed), 'tl');
    await broker.note(delayed, 'webhook', { delivery: 'delivered' });
    await broker.retry(delayed);
    expect(await broker.redis.pttl(broker.keys.timeline(delayed))).toBe(-1);
    expect((await broker.timeline(delayed)).map((e) => [e.id, e.type])).toEqual([
      ['1', 'delayed'],
      ['2', 'pending'],
      ['3', 'active'],
      ['4', 'failed'],
      ['5', 'webhook'],
      ['6', 'pending'],
    ]);
    expect(await field(broker, delayed)).toBe('');
  });

  it('goes on reading and writing a timeline written as a stream by an older version', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const key = broker.keys.timeline(id);
    await broker.redis.hset(broker.keys.job(id), 'createdAt', id.slice(0, 13));
    const first = await broker.redis.xadd(key, '*', 'job', id, 'tenant', 'default', 'type', 'pending', 'ts', '1', 'service', 'sim');
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.complete(c!.lease, 7);

    expect(await broker.redis.type(key)).toBe('stream');
    const timeline = (await broker.get(id))?.timeline ?? [];
    expect(timeline.map((e) => e.type)).toEqual(['pending', 'active', 'completed']);
    expect(timeline[0]?.id).toBe(first);
    expect((await broker.timeline(id, first ?? '')).map((e) => e.type)).toEqual(['active', 'completed']);
  });
});

describe('a stored timeline entry', () => {
  const job = { id: '1795000000000-0000000007', tenant: 'acme' };

  it('stores ts relative to the job id and reads back every field', () => {
    const entry = '250\x1fwebhook\x1fdelivery\x1fretrying\x1fhttpStatus\x1f503\x1freason\x1fHTTP 503';
    expect(decodeTimelineEntry(job, 9, entry)).toEqual({ id: '9', job: job.id, tenant: 'acme', type: 'webhook', ts: 1795000000250, delivery: 'retrying', httpStatus: 503, reason: 'HTTP 503' });
  });

  it('takes what an entry leaves out from its job: the service of a pending or delayed entry, the run of a bare active one', () => {
    const run = { ...job, service: 'sim', worker: 'w7', machine: 'm2', attempts: '3' };
    expect(decodeTimelineEntry(run, 1, '0\x1fpending')).toEqual({ id: '1', job: job.id, tenant: 'acme', type: 'pending', ts: 1795000000000, service: 'sim' });
    expect(decodeTimelineEntry(run, 2, '40\x1factive')).toMatchObject({ type: 'active', ts: 1795000000040, worker: 'w7', machine: 'm2', attempt: 3 });
    expect(decodeTimelineEntry(run, 2, '40\x1factive\x1fworker\x1fw1\x1fmachine\x1fm1\x1fattempt\x1f1')).toMatchObject({ worker: 'w1', machine: 'm1', attempt: 1 });
    expect(decodeTimelineEntry(run, 3, '50\x1fpending\x1fservice\x1fother')?.service).toBe('other');
    expect(timelineFieldEntries(undefined)).toEqual(['0\x1fpending']);
    expect(timelineFieldEntries('\x1e40\x1factive')).toEqual(['0\x1fpending', '40\x1factive']);
    expect(timelineFieldEntries('\x1e0\x1fdelayed\x1fdueAt\x1f1795000009000\x1e9000\x1fpending')).toEqual(['0\x1fdelayed\x1fdueAt\x1f1795000009000', '9000\x1fpending']);
  });

  it('skips a malformed entry', () => {
    expect(decodeTimelineEntry(job, 1, 'x\x1fpending')).toBeUndefined();
    expect(decodeTimelineEntry(job, 1, '0\x1fno-such-type')).toBeUndefined();
  });
});
