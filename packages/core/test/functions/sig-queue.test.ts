import { describe, expect, it } from 'vitest';
import { signatureOf, type Broker } from '../../src/index.ts';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();

const SIG = signatureOf('sim', 'default', {}).sig;

async function submitN(broker: Broker, n: number, extra: { priority?: number } = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1_000) {
    const batch = await broker.submitMany(Array.from({ length: Math.min(1_000, n - i) }, (_, j) => ({ service: 'sim', payload: i + j, ...extra })));
    for (const r of batch) if (r.ok) ids.push(r.id);
  }
  return ids;
}

/** The signature's rank buckets (includes/sig_queue.lua): number, size and encoding of each. */
async function buckets(broker: Broker, sig = SIG): Promise<{ bucket: number; size: number; encoding: string }[]> {
  const index = await broker.redis.zrange(broker.keys.signature(sig), 0, -1);
  return await Promise.all(
    index.map(async (b) => {
      const key = broker.keys.signatureBucket(sig, b);
      return { bucket: Number(b), size: await broker.redis.zcard(key), encoding: String(await broker.redis.object('ENCODING', key)) };
    }),
  );
}

async function drain(broker: Broker): Promise<string[]> {
  const w = broker.identify(worker('w'));
  const ids: string[] = [];
  for (;;) {
    const claimed = await broker.claim(w, 500);
    if (claimed.length === 0) return ids;
    ids.push(...claimed.map((c) => c.job.id));
  }
}

describe('signature queues: rank buckets', () => {
  it('keeps 1,000 queued jobs of one tenant in listpack buckets of at most 128, claimed in submit order', async () => {
    const broker = await redis.broker();
    const ids = await submitN(broker, 1_000);
    expect(await broker.signatureJobs(SIG)).toEqual(ids);
    const before = await buckets(broker);
    expect(before.reduce((n, b) => n + b.size, 0)).toBe(1_000);
    for (const b of before) {
      expect(b.size).toBeLessThanOrEqual(128);
      expect(b.encoding).toBe('listpack');
    }
    expect(await drain(broker)).toEqual(ids);
    // An empty queue leaves no key behind: its index goes with its last bucket.
    expect(await broker.redis.exists(broker.keys.signature(SIG))).toBe(0);
    expect(await broker.redis.keys(`${broker.keys.signature(SIG)}:*`)).toEqual([]);
  });

  it('orders priorities across buckets (negative ranks included) and counts depth over every bucket', async () => {
    const broker = await redis.broker();
    const low = await submitN(broker, 300);
    const high = await submitN(broker, 300, { priority: 5 });
    const stats = await broker.stats();
    expect(stats.queues.find((q) => q.sig === SIG)?.depth).toBe(600);
    expect(stats.counts.pending).toBe(600);
    expect(await drain(broker)).toEqual([...high, ...low]);
  });

  it('cancels the head and a job deep in the queue, and the next head is claimed', async () => {
    const broker = await redis.broker();
    const ids = await submitN(broker, 400);
    await broker.cancel(ids[0]!);
    await broker.cancel(ids[300]!);
    expect(await drain(broker)).toEqual(ids.filter((_, i) => i !== 0 && i !== 300));
  });

  it("converts a conveyor_v5 queue (one sorted set of job ids) at its first write, keeping the order and losing nothing", async () => {
    const broker = await redis.broker();
    const ids = await submitN(broker, 500);
    // conveyor_v5's form: every job in `sig:<sig>` itself, scored by rank.
    const index = broker.keys.signature(SIG);
    const tx = broker.redis.multi().del(index);
    for (const b of await buckets(broker)) {
      const key = broker.keys.signatureBucket(SIG, String(b.bucket));
      const jobs = await broker.redis.zrange(key, 0, -1, 'WITHSCORES');
      for (let i = 0; i < jobs.length; i += 2) tx.zadd(index, jobs[i + 1]!, jobs[i]!);
      tx.del(key);
    }
    await tx.exec();
    expect(await broker.redis.zcard(index)).toBe(500);

    // Read-only functions read it as it is.
    expect((await broker.stats()).queues.find((q) => q.sig === SIG)?.depth).toBe(500);
    // The first write converts it.
    const late = await broker.submit({ service: 'sim', payload: 'late' });
    expect((await buckets(broker)).reduce((n, b) => n + b.size, 0)).toBe(501);
    expect(await drain(broker)).toEqual([...ids, late.id]);
  });
});
