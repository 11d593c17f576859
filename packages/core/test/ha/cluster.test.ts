import { startRedisCluster, type RedisCluster } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Broker, conveyorLibrary, Keys, loadedLibraryHash } from '../../src/index.ts';
import { runThroughFailover } from './failover-run.ts';

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('on Redis Cluster (3 primaries, 3 replicas)', () => {
  it('loads the library on every primary (replicas get it by replication) and runs a namespace in its one slot', async () => {
    const broker = await Broker.connect({ redis: cluster.url, namespace: 'probe' });
    try {
      for (const node of cluster.nodes) {
        const client = node.client();
        // A replica gets the library through replication, a moment after its primary loaded it.
        await vi.waitFor(async () => expect(await loadedLibraryHash(client)).toBe(conveyorLibrary().hash), { timeout: 5000, interval: 50 });
        client.disconnect();
      }
      const { id } = await broker.submit({ service: 'sim', payload: 1 });
      const [claimed] = await broker.claim(broker.identify({ workerId: 'w', machineId: 'm', services: ['sim'] }), 1);
      expect(claimed?.job.id).toBe(id);
      await broker.complete(claimed!.lease, 'ok');
      expect((await broker.get(id))?.job.status).toBe('completed');
    } finally {
      await broker.close();
    }
  });

  it("carries on through the namespace's primary being killed: no acknowledged job lost, workers and submitter reconnect by themselves", async () => {
    let failoverMs = 0;
    const kill = async (namespace: string) => {
      const { killed, killedAt, failoverMs: ms } = await cluster.killPrimaryFor(new Keys(namespace).seq());
      failoverMs = ms;
      // Back as a supervisor would bring it: it rejoins as the promoted node's replica.
      await killed.restart();
      return killedAt;
    };
    const outcome = await runThroughFailover(cluster.url, kill);
    process.stdout.write(`cluster: failover ${failoverMs} ms; kill → first claim ${outcome.failoverToFirstClaimMs} ms; ${outcome.reruns} re-runs of ${outcome.acknowledged} jobs\n`);
    expect(outcome.failoverToFirstClaimMs).toBeGreaterThan(0);
  }, 180_000);
});
