import { startRedisNode, waitUntil, infoField, type RedisNode } from '@conveyor/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker } from '../src/index.ts';
import { useRedis } from './helpers.ts';

const redis = useRedis();
const nodes: RedisNode[] = [];
const brokers: Broker[] = [];
afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  await Promise.all(nodes.map((n) => n.stop()));
});

async function node(config: string): Promise<RedisNode> {
  const started = await startRedisNode(config);
  nodes.push(started);
  return started;
}

describe('durability modes', () => {
  it("fsync: refuses a Redis that does not fsync every write, naming what it found and the fix", async () => {
    const refused = Broker.connect({ redis: redis.server().url, durability: 'fsync' });
    await expect(refused).rejects.toMatchObject({ code: 'DURABILITY_UNMET' });
    await expect(refused).rejects.toThrow(/found appendonly no, appendfsync everysec; configure the Redis so/);
  });

  it('fsync: connects to a Redis running AOF with appendfsync always', async () => {
    const always = await node('appendonly yes\nappendfsync always');
    const broker = await Broker.connect({ redis: always.url, durability: 'fsync' });
    brokers.push(broker);
    expect((await broker.submit({ service: 'sim', payload: 1 })).id).toBeTruthy();
  });

  it('replicated: acknowledges a submit only once a replica holds it', async () => {
    const primary = await node('appendonly yes\nrepl-diskless-sync-delay 0');
    const replica = await node(`replicaof 127.0.0.1 ${primary.port}`);
    await waitUntil('the replica to sync', async () => (await infoField(replica, 'replication', 'master_link_status')) === 'up');
    const broker = await Broker.connect({ redis: primary.url, durability: 'replicated' });
    brokers.push(broker);
    const { id } = await broker.submit({ service: 'sim', payload: 1 });
    // Read from the replica right after the acknowledgment: it is there already.
    const client = replica.client();
    expect(await client.hget(broker.keys.job(id), 'status')).toBe('pending');
    client.disconnect();
  });

  it('replicated: a submit no replica confirms fails NOT_REPLICATED, and the same idempotency key never makes a second job', async () => {
    const broker = await Broker.connect({ redis: redis.server().url, durability: 'replicated', replicaTimeoutMs: 50 });
    brokers.push(broker);
    const submit = () => broker.submit({ service: 'sim', payload: 1, idempotencyKey: 'once' });
    await expect(submit()).rejects.toMatchObject({ code: 'NOT_REPLICATED' });
    await expect(submit()).rejects.toMatchObject({ code: 'NOT_REPLICATED' });
    expect((await broker.stats()).counts.pending).toBe(1);
  });
});
