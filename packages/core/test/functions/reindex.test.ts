import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Broker, Keys, signatureOf } from '../../src/index.ts';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();

/** A pending job as the previous library (conveyor_v2) left it: ranked by enqueue time, no tag. */
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

describe('reindex: upgrading a live namespace from the previous library', () => {
  it('moves its pending jobs into the new indexes at connect, each tenant in its order, ahead of newer work', async () => {
    const namespace = `up${randomUUID().slice(0, 8)}`;
    const keys = new Keys(namespace);
    const seed = await redis.broker({ namespace: `${namespace}-seed` });
    const now = Date.now();
    const ids = Array.from({ length: 1_200 }, (_, i) => `${String(now - 5_000 + i).padStart(13, '0')}-${String(i + 1).padStart(10, '0')}`);
    for (let i = 0; i < ids.length; i++) await legacyPending(seed, keys, ids[i]!, `t${i % 3}`, now - 5_000 + i);

    const broker = await redis.broker({ namespace });
    expect(await broker.redis.get(keys.layout())).toBe('3');
    expect(await broker.redis.exists(...keys.legacyRegistries())).toBe(0);
    const fresh = await broker.submit({ service: 'sim', tenant: 't0', payload: 'after the upgrade' });

    const w = broker.identify(worker('w'));
    const claimed = await broker.claim(w, 2_000);
    expect(claimed.map((c) => c.job.id).sort()).toEqual([...ids, fresh.id].sort());
    expect(claimed.at(-1)?.job.id).toBe(fresh.id);
    for (const tenant of ['t0', 't1', 't2']) {
      const order = claimed.filter((c) => c.job.tenant === tenant).map((c) => c.job.id);
      expect(order).toEqual([...order].sort());
    }
  });

  it('is a single read once a namespace is in the new layout', async () => {
    const broker = await redis.broker();
    await broker.submit({ service: 'sim', payload: 1 });
    const again = await Broker.connect({ redis: broker.redis, namespace: broker.options.namespace });
    expect((await again.claim(again.identify(worker('w')), 5)).map((c) => c.job.payload)).toEqual([1]);
  });
});
