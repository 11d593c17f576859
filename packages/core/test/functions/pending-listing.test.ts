import { describe, expect, it } from 'vitest';
import type { Broker, ListingEntry } from '../../src/index.ts';
import { commandsRunBy, useRedis, worker } from '../helpers.ts';

const redis = useRedis();

/** Submits n no-op jobs at once (many share a millisecond) and returns their ids in submit order. */
async function submitN(broker: Broker, n: number, service = 'sim'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1_000) {
    const batch = await broker.submitMany(Array.from({ length: Math.min(1_000, n - i) }, (_, j) => ({ service, payload: i + j })));
    for (const r of batch) if (r.ok) ids.push(r.id);
  }
  return ids;
}

/** Each bucket's size and encoding, by bucket number, read straight from Redis. */
async function buckets(broker: Broker): Promise<Map<number, { size: number; encoding: string; latest: number }>> {
  const index = await broker.redis.zrange(broker.keys.pendingBuckets(), 0, -1, 'WITHSCORES');
  const out = new Map<number, { size: number; encoding: string; latest: number }>();
  for (let i = 0; i < index.length; i += 2) {
    const key = broker.keys.pendingBucket(Number(index[i]));
    out.set(Number(index[i]), { size: await broker.redis.zcard(key), encoding: String(await broker.redis.object('ENCODING', key)), latest: Number(index[i + 1]) });
  }
  return out;
}

/** The whole listing in one page, newest first. */
async function everything(broker: Broker): Promise<ListingEntry[]> {
  return await broker.pendingPage(Infinity, '', 10_000_000);
}

const newestFirst = (a: ListingEntry, b: ListingEntry) => b.score - a.score || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Pages through the listing `size` entries at a time with (score, id) cursors. */
async function pageThrough(broker: Broker, size: number): Promise<ListingEntry[]> {
  const seen: ListingEntry[] = [];
  let max = Infinity;
  let after = '';
  for (;;) {
    const page = await broker.pendingPage(max, after, size);
    seen.push(...page);
    const last = page.at(-1);
    if (page.length < size || !last) return seen;
    max = last.score;
    after = last.id;
  }
}

describe('pending listing: buckets of at most 128 jobs', () => {
  it('puts a fresh job in the bucket of its sequence number, at its creation time, storing nothing on the job', async () => {
    const broker = await redis.broker();
    const ids = await submitN(broker, 129);
    // Sequence numbers start at 1: bucket 0 holds 1..127, bucket 1 holds 128 and 129.
    const b = await buckets(broker);
    expect([...b.entries()].map(([n, { size }]) => [n, size])).toEqual([
      [0, 127],
      [1, 2],
    ]);
    const more = await submitN(broker, 127);
    const after = await buckets(broker);
    expect(after.get(1)?.size).toBe(128);
    expect(after.get(2)?.size).toBe(1);
    for (const { encoding } of after.values()) expect(encoding).toBe('listpack');

    const all = [...ids, ...more];
    expect(await broker.redis.hget(broker.keys.job(all[0]!), 'bucket')).toBeNull();
    const listed = await everything(broker);
    expect(listed.map((e) => e.id)).toEqual([...all].sort().reverse());
    for (const e of listed) expect(e.score).toBe(Number(e.id.slice(0, 13)));
    // A fresh entry's member is its sequence number within the bucket (one listpack byte), not its id.
    const members = await broker.redis.zrange(broker.keys.pendingBucket(0), 0, -1);
    expect(members.every((m) => /^\d{1,3}$/.test(m))).toBe(true);
  });

  it('lists a requeued job in the newest bucket under a new sequence number, and takes it out of the right bucket', async () => {
    const broker = await redis.broker();
    const ids = await submitN(broker, 130);
    const first = ids[0]!;
    await broker.cancel(first);
    expect((await buckets(broker)).get(0)?.size).toBe(126);
    await broker.retry(first);
    // seq 131 was taken by the retry: bucket 1.
    expect(await broker.redis.hget(broker.keys.job(first), 'bucket')).toBe('1');
    expect(await broker.redis.get(broker.keys.seq())).toBe('131');
    const b = await buckets(broker);
    expect(b.get(1)?.size).toBe(4);
    expect(await broker.redis.zscore(broker.keys.pendingBucket(1), first)).not.toBeNull();
    const listed = await everything(broker);
    expect(listed[0]?.id).toBe(first);
    expect(listed).toHaveLength(130);
    expect((await broker.stats()).queues[0]?.oldestPendingSince).toBe(listed[0]?.score);

    // It is its signature's head again (it kept its rank): the claim takes it out of bucket 1.
    const [claimed] = await broker.claim(broker.identify(worker('w')), 1);
    expect(claimed?.job.id).toBe(first);
    expect(await broker.redis.zscore(broker.keys.pendingBucket(1), first)).toBeNull();
    expect((await buckets(broker)).get(1)?.size).toBe(3);
    expect(claimed?.job).not.toHaveProperty('bucket');
  });

  it('keeps every bucket a listpack of at most 128 entries through requeues', async () => {
    const broker = await redis.broker();
    await submitN(broker, 600);
    const w = broker.identify(worker('w'));
    // Claimed jobs given back by a restarted worker are requeued together: they fill new buckets.
    await broker.claim(w, 400);
    expect(await broker.release('w')).toMatchObject({ requeued: 400 });
    const b = await buckets(broker);
    for (const { size, encoding } of b.values()) {
      expect(size).toBeLessThanOrEqual(128);
      expect(encoding).toBe('listpack');
    }
    expect([...b.values()].reduce((s, x) => s + x.size, 0)).toBe(600);
    expect((await everything(broker)).length).toBe(600);
    expect((await broker.stats()).counts.pending).toBe(600);
  });

  it('drops a bucket from the index once it is empty, by claim and by cancel', async () => {
    const broker = await redis.broker();
    const ids = await submitN(broker, 3);
    await broker.claim(broker.identify(worker('w')), 2);
    expect((await buckets(broker)).get(0)?.size).toBe(1);
    await broker.cancel(ids[2]!);
    expect(await broker.redis.exists(broker.keys.pendingBuckets(), broker.keys.pendingBucket(0))).toBe(0);
    expect(await everything(broker)).toEqual([]);
    expect((await broker.stats()).counts.pending).toBe(0);
  });

  it('counts pending jobs exactly as they come and go', async () => {
    const broker = await redis.broker();
    const ids = await submitN(broker, 300);
    await broker.submit({ service: 'sim', payload: 'later', delayMs: 60_000 });
    expect((await broker.stats()).counts).toMatchObject({ pending: 300, delayed: 1 });
    for (const id of ids.slice(0, 50)) await broker.cancel(id);
    await broker.claim(broker.identify(worker('w')), 70);
    expect((await broker.stats()).counts).toMatchObject({ pending: 180, active: 70, cancelled: 50 });
    expect((await everything(broker)).length).toBe(180);
  });

  it('lists a job at the latest listed time when the clock is behind it, so buckets stay in order', async () => {
    const broker = await redis.broker();
    await submitN(broker, 3);
    // As if the server clock had stepped back a minute: the newest bucket says it holds a later time.
    const ahead = Date.now() + 60_000;
    await broker.redis.zadd(broker.keys.pendingBuckets(), ahead, '0');
    const { id } = await broker.submit({ service: 'sim', payload: 'behind' });
    expect(await broker.redis.zscore(broker.keys.pendingBucket(0), id)).toBe(String(ahead));
    expect(await broker.redis.hget(broker.keys.job(id), 'bucket')).toBe('0');
    expect((await everything(broker))[0]).toEqual({ id, score: ahead });
    await broker.cancel(id);
    expect((await buckets(broker)).get(0)?.size).toBe(3);
  });

  it('pages in (time, id) order across buckets with none skipped or repeated, ties within a millisecond included', async () => {
    const broker = await redis.broker();
    const ids = await submitN(broker, 1_000);
    const w = broker.identify(worker('w'));
    await broker.claim(w, 300);
    await broker.release('w');
    for (const id of ids.slice(500, 540)) await broker.cancel(id);
    const all = await everything(broker);
    expect(all).toHaveLength(960);
    expect([...all].sort(newestFirst)).toEqual(all);
    expect(new Set(all.map((e) => e.score)).size).toBeLessThan(all.length);
    for (const size of [1, 7, 128, 129, 500]) expect(await pageThrough(broker, size)).toEqual(all);

    // The core listing pages the same way with its "<score>:<id>" cursor.
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await broker.list({ status: 'pending', limit: 33, cursor });
      listed.push(...page.jobs.map((j) => j.id));
      cursor = page.cursor;
    } while (cursor);
    expect(listed).toEqual(all.map((e) => e.id));
  });

  it('reads a constant number of buckets per page with 100,000 jobs pending, first page or deep', async () => {
    const broker = await redis.broker();
    await submitN(broker, 100_000);
    const b = await buckets(broker);
    expect(b.size).toBe(782);
    const bytes = await Promise.all([...b.keys()].map((n) => broker.redis.memory('USAGE', broker.keys.pendingBucket(n))));
    // About 15 bytes per listed job (a skiplist sorted set costs ~129 at this size).
    expect(bytes.reduce((sum: number, x) => sum + Number(x), 0) / 100_000).toBeLessThan(20);

    let first: ListingEntry[] = [];
    const firstCalls = await commandsRunBy(broker.redis, async () => (first = await broker.pendingPage(Infinity, '', 50)));
    expect(first).toHaveLength(50);
    const middle = (await everything(broker))[50_000]!;
    let deep: ListingEntry[] = [];
    const deepCalls = await commandsRunBy(broker.redis, async () => (deep = await broker.pendingPage(middle.score, middle.id, 200)));
    expect(deep).toHaveLength(200);
    // First page: FCALL_RO, one read of the index, the newest two buckets (the newest holds 33).
    // Deep: the bucket the cursor falls in (two index reads, one bucket), then one index read and
    // the next bucket. One more bucket is allowed where a millisecond spans a bucket boundary.
    expect(firstCalls).toBeLessThanOrEqual(5);
    expect(deepCalls).toBeLessThanOrEqual(7);
  }, 120_000);
});
