import { describe, expect, it } from 'vitest';
import { JobConsumer, TenantPolicy } from '../../src/index.ts';
import { commandsRunBy, useRedis, worker } from '../helpers.ts';

const redis = useRedis();

describe('release', () => {
  it("gives a dead predecessor's leases back at once, at their rank, without spending an attempt", async () => {
    const broker = await redis.broker();
    const first = await broker.submit({ service: 'sim', payload: 1 });
    const second = await broker.submit({ service: 'sim', payload: 2 });
    const dead = broker.identify(worker('w1', { concurrency: 2 }));
    const held = await broker.claim(dead, 2, 60_000);
    expect(held.map((c) => c.job.id)).toEqual([first.id, second.id]);
    const later = await broker.submit({ service: 'sim', payload: 3 });

    expect(await broker.release('w1')).toEqual({ requeued: 2, failed: 0, cancelled: 0 });
    // Back at their original ranks: ahead of the job submitted while they ran.
    const again = await broker.claim(broker.identify(worker('w2', { concurrency: 3 })), 3);
    expect(again.map((c) => c.job.id)).toEqual([first.id, second.id, later.id]);
    expect(again[0]?.job).toMatchObject({ attempts: 1, stalls: 1 });
    const types = (await broker.timeline(first.id)).map((e) => e.type);
    expect(types).toEqual(['pending', 'active', 'lease-released', 'pending', 'active']);
    const released = (await broker.timeline(first.id))[2];
    expect(released).toMatchObject({ worker: 'w1' });
    await expect(broker.complete(held[0]!.lease, 'late')).rejects.toMatchObject({ code: 'LEASE_LOST' });
  });

  it('keeps the fair-share tag: a flooding tenant released does not jump a light one', async () => {
    const broker = await redis.broker();
    for (let i = 0; i < 5; i++) await broker.submit({ service: 'sim', tenant: 'heavy', payload: i });
    const light = await broker.submit({ service: 'sim', tenant: 'light', payload: 'x' });
    const dead = broker.identify(worker('w1', { concurrency: 4 }));
    const held = await broker.claim(dead, 4, 60_000);
    const order = held.map((c) => c.job.tenant);
    await broker.release('w1');
    const again = await broker.claim(broker.identify(worker('w2', { concurrency: 6 })), 6);
    // The released jobs interleave with the light tenant exactly as they did before the crash.
    expect(again.slice(0, 4).map((c) => c.job.tenant)).toEqual(order);
    expect(again.map((c) => c.job.id)).toContain(light.id);
  });

  it('leaves alone jobs the worker no longer holds and jobs of other workers', async () => {
    const broker = await redis.broker();
    await broker.submit({ service: 'sim', payload: 1 });
    await broker.submit({ service: 'sim', payload: 2 });
    const [done] = await broker.claim(broker.identify(worker('w1')), 1, 60_000);
    await broker.complete(done!.lease, 'ok');
    const [other] = await broker.claim(broker.identify(worker('w2')), 1, 60_000);
    expect(await broker.release('w1')).toEqual({ requeued: 0, failed: 0, cancelled: 0 });
    expect((await broker.get(other!.job.id))?.job.status).toBe('active');
    // The lease index holds what is held: nothing left for w1 once released, w2's one job.
    expect(await broker.redis.scard(broker.keys.workerLeasesPrefix() + 'w1')).toBe(0);
    expect(await broker.redis.smembers(broker.keys.workerLeasesPrefix() + 'w2')).toEqual([other!.job.id]);
  });

  it('fails a job with STALLED once it has lost more leases than maxStalls; ends a cancel-requested one cancelled', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, maxStalls: 1, maxAttempts: 1 });
    const w = broker.identify(worker('w1'));
    await broker.claim(w, 1, 60_000);
    expect(await broker.release('w1')).toMatchObject({ requeued: 1 });
    await broker.claim(w, 1, 60_000);
    expect(await broker.release('w1')).toMatchObject({ failed: 1 });
    expect((await broker.get(id))?.job).toMatchObject({ status: 'failed', stalls: 2, attempts: 0, error: { code: 'STALLED', retryable: false } });

    const cancelled = await broker.submit({ service: 'sim', payload: {} });
    await broker.claim(w, 1, 60_000);
    await broker.cancel(cancelled.id);
    expect(await broker.release('w1')).toMatchObject({ cancelled: 1 });
    expect((await broker.get(cancelled.id))?.job.status).toBe('cancelled');
  });

  it('frees the slot of a capped tenant it gives back', async () => {
    const broker = await redis.broker();
    await new TenantPolicy(broker.redis, broker.keys).set('capped', { maxRunning: 1 });
    await broker.submit({ service: 'sim', tenant: 'capped', payload: 1 });
    const second = await broker.submit({ service: 'sim', tenant: 'capped', payload: 2 });
    await broker.claim(broker.identify(worker('w1')), 1, 60_000);
    const other = broker.identify(worker('w2', { concurrency: 2 }));
    expect(await broker.claim(other, 2)).toHaveLength(0);
    await broker.release('w1');
    // The released job goes first (its rank), and the tenant's one slot is free for it.
    const again = await broker.claim(other, 2);
    expect(again).toHaveLength(1);
    expect(again[0]?.job.id).not.toBe(second.id);
  });

  it('costs the leases of that worker, not the active jobs of the fleet', async () => {
    const cost = async (othersActive: number) => {
      const broker = await redis.broker();
      await Promise.all(Array.from({ length: othersActive }, (_, i) => broker.submit({ service: 'sim', payload: i })));
      expect(await broker.claim(broker.identify(worker('busy', { concurrency: othersActive })), othersActive, 60_000)).toHaveLength(othersActive);
      await broker.submit({ service: 'sim', payload: 'a' });
      await broker.submit({ service: 'sim', payload: 'b' });
      await broker.claim(broker.identify(worker('crashed', { concurrency: 2 })), 2, 60_000);
      return await commandsRunBy(broker.redis, async () => expect(await broker.release('crashed')).toMatchObject({ requeued: 2 }));
    };
    const small = await cost(10);
    const large = await cost(1_000);
    // A requeue's wake-up bookkeeping varies by a command or two between runs; 990 more active
    // jobs in an O(active) scan would add hundreds.
    expect(Math.abs(large - small)).toBeLessThanOrEqual(4);
  }, 60_000);

  it('runs when a consumer starts under the id of a crashed one', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await broker.claim(broker.identify(worker('pm2-w1')), 1, 60_000);
    const started = Date.now();
    const consumer = new JobConsumer({ broker, capabilities: worker('pm2-w1'), handler: async () => 'redone' });
    await consumer.start();
    for (;;) {
      const job = (await broker.get(id))?.job;
      if (job?.status === 'completed') {
        expect(job).toMatchObject({ result: 'redone', attempts: 1, stalls: 1 });
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    await consumer.stop();
  });
});
