import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Broker, Keys, signatureOf } from '../../src/index.ts';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();

/** A pending job as conveyor_v2 left it: ranked by enqueue time, no tag, listed in `status:pending`. */
async function legacyPending(broker: Broker, keys: Keys, id: string, tenant: string, enqueuedAt: number): Promise<void> {
  const { sig, spec } = signatureOf('sim', tenant, {});
  const rank = enqueuedAt * 1024;
  await broker.redis
    .multi()
    .hset(keys.job(id), { id, service: 'sim', tenant, sig, rank, priority: 0, attempts: 0, createdAt: enqueuedAt, status: 'pending', updatedAt: enqueuedAt, payload: `"${id}"`, requirements: '{}', maxAttempts: 3, backoff: '{"type":"fixed","delayMs":0}' })
    .zadd(keys.signature(sig), rank, id)
    .zadd(keys.status('pending'), enqueuedAt, id)
    .hset(keys.legacyRegistries()[1]!, sig, spec)
    .hset(keys.legacyRegistries()[0]!, `${sig}|oldclass`, '1')
    .exec();
}

/** Every entry of the pending listing, newest first. */
async function listing(broker: Broker): Promise<{ id: string; score: number }[]> {
  return await broker.pendingPage(Infinity, '', 1_000_000);
}

/**
 * Turns the pending listing of `broker`'s namespace back into conveyor_v4's: one `status:pending`
 * sorted set (job id -> time it entered pending), no buckets. Fresh submits store nothing for the
 * listing, so their hashes are already as v4 wrote them.
 */
async function toV4Listing(broker: Broker): Promise<void> {
  const entries = await listing(broker);
  const buckets = await broker.redis.zrange(broker.keys.pendingBuckets(), 0, -1);
  const tx = broker.redis.multi();
  for (const { id, score } of entries) tx.zadd(broker.keys.status('pending'), score, id);
  for (const n of buckets) tx.del(broker.keys.pendingBucket(Number(n)));
  tx.del(broker.keys.pendingBuckets());
  tx.set(broker.keys.layout(), '3');
  await tx.exec();
}

describe('reindex: upgrading a live namespace from a previous library', () => {
  it('moves conveyor_v2 pending jobs into the new indexes at connect, each tenant in its order, ahead of newer work', async () => {
    const namespace = `up${randomUUID().slice(0, 8)}`;
    const keys = new Keys(namespace);
    const seed = await redis.broker({ namespace: `${namespace}-seed` });
    const now = Date.now();
    const ids = Array.from({ length: 1_200 }, (_, i) => `${String(now - 5_000 + i).padStart(13, '0')}-${String(i + 1).padStart(10, '0')}`);
    for (let i = 0; i < ids.length; i++) await legacyPending(seed, keys, ids[i]!, `t${i % 3}`, now - 5_000 + i);

    const broker = await redis.broker({ namespace });
    expect(await broker.redis.exists(keys.layout(), keys.status('pending'), ...keys.legacyRegistries())).toBe(0);
    expect(await listing(broker)).toEqual(ids.map((id, i) => ({ id, score: now - 5_000 + i })).reverse());
    const fresh = await broker.submit({ service: 'sim', tenant: 't0', payload: 'after the upgrade' });

    const w = broker.identify(worker('w'));
    const claimed = await broker.claim(w, 2_000);
    expect(claimed.map((c) => c.job.id).sort()).toEqual([...ids, fresh.id].sort());
    expect(claimed.at(-1)?.job.id).toBe(fresh.id);
    for (const tenant of ['t0', 't1', 't2']) {
      const order = claimed.filter((c) => c.job.tenant === tenant).map((c) => c.job.id);
      expect(order).toEqual([...order].sort());
    }
    expect(await broker.redis.exists(broker.keys.pendingBuckets())).toBe(0);
  });

  it('lists conveyor_v4 pending jobs in buckets of their own at their times; entries of jobs that left pending meanwhile are dropped', async () => {
    const old = await redis.broker();
    const { keys } = old;
    const submitted = await old.submitMany(Array.from({ length: 700 }, (_, i) => ({ service: 'sim', payload: i })));
    const ids = submitted.map((s) => (s.ok ? s.id : ''));
    await toV4Listing(old);
    // One job the old library had requeued: listed later than it was created.
    const requeuedAt = Date.now() + 5;
    await old.redis.zadd(keys.status('pending'), requeuedAt, ids[10]!);
    const v4 = await listing(old);
    expect(v4).toEqual([]);
    const before = await old.redis.zrange(keys.status('pending'), 0, -1, 'WITHSCORES');

    // Before the walk reaches them (this library is loaded, the walk has not run): one job is
    // claimed, one cancelled, and one claimed and given back (listed again, in a bucket).
    const [claimed] = await old.claim(old.identify(worker('w1')), 1);
    await old.cancel(ids[20]!);
    const [back] = await old.claim(old.identify(worker('w2')), 1);
    expect(await old.release('w2')).toMatchObject({ requeued: 1 });
    expect((await listing(old)).map((e) => e.id)).toEqual([back!.job.id]);
    const seqBefore = Number(await old.redis.get(keys.seq()));

    const upgraded = await Broker.connect({ redis: old.redis, namespace: old.options.namespace });
    expect(await upgraded.redis.exists(keys.status('pending'), keys.layout())).toBe(0);
    const gone = new Set([claimed!.job.id, ids[20]!, back!.job.id]);
    const expected: { id: string; score: number }[] = [];
    for (let i = 0; i < before.length; i += 2) if (!gone.has(before[i]!)) expected.push({ id: before[i]!, score: Number(before[i + 1]) });
    const after = await listing(upgraded);
    expect(after.filter((e) => e.id !== back!.job.id)).toEqual(expected.reverse());
    expect(after.filter((e) => e.id === back!.job.id)).toHaveLength(1);

    // The walk took whole buckets past the counter: none is shared with a job entering later.
    const buckets = await upgraded.redis.zrange(keys.pendingBuckets(), 0, -1);
    const migrated = buckets.filter((n) => Number(n) * 128 > seqBefore);
    const sizes = await Promise.all(migrated.map((n) => upgraded.redis.zcard(keys.pendingBucket(Number(n)))));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(expected.length);
    for (const n of buckets) expect(await upgraded.redis.object('ENCODING', keys.pendingBucket(Number(n)))).toBe('listpack');
    const fresh = await upgraded.submit({ service: 'sim', payload: 'new' });
    expect(Math.floor(Number(fresh.id.slice(14)) / 128)).toBeGreaterThan(Math.max(...migrated.map(Number)));
    expect((await listing(upgraded))[0]?.id).toBe(fresh.id);
    expect((await upgraded.stats()).counts.pending).toBe(after.length + 1);

    // Every job is claimed exactly once and leaves the listing empty.
    const all = await upgraded.claim(upgraded.identify(worker('w3')), 1_000);
    expect(new Set(all.map((c) => c.job.id)).size).toBe(after.length + 1);
    expect(await upgraded.redis.exists(keys.pendingBuckets())).toBe(0);
  });

  it('costs one call once a namespace is in the new layout', async () => {
    const broker = await redis.broker();
    await broker.submit({ service: 'sim', payload: 1 });
    const again = await Broker.connect({ redis: broker.redis, namespace: broker.options.namespace });
    expect((await again.claim(again.identify(worker('w')), 5)).map((c) => c.job.payload)).toEqual([1]);
  });
});
