import { describe, expect, it } from 'vitest';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();

describe('stats', () => {
  it('reports depth, oldest pending time and live workers per signature, and counts per status', async () => {
    const broker = await redis.broker();
    const first = await broker.submit({ service: 'sim', payload: 1 });
    await broker.submit({ service: 'sim', payload: 2 });
    await broker.submit({ service: 'sim', payload: 3, requirements: { gpuMemoryMb: 80_000 } });
    await broker.submit({ service: 'other', payload: 4, delayMs: 60_000 });
    const small = broker.identify(worker('small', { gpu: { index: 0, memoryMb: 8000 } }));
    const big = broker.identify(worker('big', { gpu: { index: 0, memoryMb: 81_920 } }));
    await broker.heartbeat(small);
    await broker.heartbeat(big);
    const stats = await broker.stats();
    const created = (await broker.get(first.id))!.job.createdAt;
    const plain = stats.queues.find((q) => !q.spec.requirements.gpuMemoryMb);
    const heavy = stats.queues.find((q) => q.spec.requirements.gpuMemoryMb);
    expect(plain).toMatchObject({ depth: 2, liveWorkers: 2, oldestPendingSince: created });
    expect(heavy).toMatchObject({ depth: 1, liveWorkers: 1 });
    expect(stats.counts).toMatchObject({ pending: 3, delayed: 1, active: 0 });
    expect(stats.now).toBeGreaterThanOrEqual(created);
  });

  it('stops counting a deregistered worker', async () => {
    const broker = await redis.broker();
    await broker.submit({ service: 'sim', payload: 1 });
    const w = broker.identify(worker('w'));
    await broker.heartbeat(w);
    expect((await broker.stats()).queues[0]?.liveWorkers).toBe(1);
    await broker.deregister(w);
    expect((await broker.stats()).queues[0]?.liveWorkers).toBe(0);
  });

  it('runs read-only (FCALL_RO), so it can be served by a replica', async () => {
    const broker = await redis.broker();
    await expect(broker.stats()).resolves.toMatchObject({ queues: [] });
  });
});

describe('list', () => {
  it('pages through a finished status newest first with a cursor (pending: pending-listing.test.ts)', async () => {
    const broker = await redis.broker();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await broker.submit({ service: 'sim', payload: i })).id);
    }
    for (const id of ids) await broker.cancel(id);
    // Same-millisecond entries must page correctly too: force all five onto one score.
    for (const id of ids) await broker.redis.zadd(broker.keys.status('cancelled'), 1000, id);
    const page1 = await broker.list({ status: 'cancelled', limit: 3 });
    const page2 = await broker.list({ status: 'cancelled', limit: 3, cursor: page1.cursor });
    expect([...page1.jobs, ...page2.jobs].map((j) => j.id)).toEqual([...ids].reverse());
    expect(page2.cursor).toBeUndefined();
    await expect(broker.list({ status: 'bogus' as never })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(broker.list({ status: 'pending', cursor: 'nope' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
