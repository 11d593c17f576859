import { Redis } from 'ioredis';
import { infoField, startRedisNode, waitUntil, type RedisNode } from './redis-node.ts';

/** A primary, its replica and three sentinels watching them, all real processes on free ports. */
export interface SentinelSet {
  /** The REDIS_URL of the set: `redis-sentinel://<sentinels>/<name>`. */
  readonly url: string;
  readonly name: string;
  /** The two data nodes; which is primary changes with a failover (see `primary()`). */
  readonly nodes: readonly RedisNode[];
  readonly sentinels: readonly RedisNode[];
  /** The data node the sentinels name as primary now. */
  primary(): Promise<RedisNode>;
  /** SIGKILLs the current primary; resolves with it once the sentinels have promoted the other node. */
  killPrimary(): Promise<{ killed: RedisNode; promoted: RedisNode; killedAt: number; failoverMs: number }>;
  stop(): Promise<void>;
}

/**
 * Starts a Sentinel set: 1 primary and 1 replica (AOF on), 3 sentinels with quorum 2. The
 * sentinels call a primary down after `downAfterMs` without an answer, so a failover takes about
 * that plus an election (1–3 s with the defaults). `appendfsync` is the data nodes' (`always` for
 * the fsync durability mode).
 */
export async function startSentinelSet(
  options: { name?: string; downAfterMs?: number; appendfsync?: 'everysec' | 'always' } = {},
): Promise<SentinelSet> {
  const name = options.name ?? 'conveyor';
  const downAfterMs = options.downAfterMs ?? 1000;
  const aof = `appendonly yes\nappendfsync ${options.appendfsync ?? 'everysec'}\nrepl-diskless-sync-delay 0`;
  const started: RedisNode[] = [];
  try {
    const first = await startRedisNode(aof);
    started.push(first);
    const second = await startRedisNode(`${aof}\nreplicaof 127.0.0.1 ${first.port}`);
    started.push(second);
    await waitUntil('the replica to sync', async () => (await infoField(second, 'replication', 'master_link_status')) === 'up');
    const sentinels: RedisNode[] = [];
    for (let i = 0; i < 3; i++) {
      const sentinel = await startRedisNode(
        [
          `sentinel monitor ${name} 127.0.0.1 ${first.port} 2`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} ${Math.max(3000, downAfterMs * 3)}`,
          `sentinel parallel-syncs ${name} 1`,
        ].join('\n'),
        { sentinel: true },
      );
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    const nodes = [first, second];
    await waitUntil('the sentinels to see the replica and each other', async () => {
      const client = sentinels[0]!.client();
      try {
        const replicas = (await client.call('SENTINEL', 'REPLICAS', name)) as unknown[];
        const peers = (await client.call('SENTINEL', 'SENTINELS', name)) as unknown[];
        return replicas.length === 1 && peers.length === 2;
      } finally {
        client.disconnect();
      }
    });

    const primaryPort = async (): Promise<number> => {
      for (const sentinel of sentinels) {
        if (!sentinel.running) continue;
        const client = sentinel.client();
        client.on('error', () => undefined);
        try {
          const [, port] = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
          return Number(port);
        } catch {
          continue;
        } finally {
          client.disconnect();
        }
      }
      throw new Error('no sentinel answers');
    };
    const primary = async (): Promise<RedisNode> => {
      const port = await primaryPort();
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`sentinels name an unknown primary on port ${port}`);
      return node;
    };

    return {
      url: `redis-sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${name}`,
      name,
      nodes,
      sentinels,
      primary,
      async killPrimary() {
        const killed = await primary();
        await killed.kill('SIGKILL');
        const at = Date.now();
        let promoted: RedisNode | undefined;
        await waitUntil('the sentinels to promote the replica', async () => {
          const node = await primary();
          if (node === killed) return false;
          const client = new Redis({ port: node.port, host: '127.0.0.1', maxRetriesPerRequest: 0, lazyConnect: true });
          try {
            await client.connect();
            const role = (await client.call('ROLE')) as [string];
            promoted = node;
            return role[0] === 'master';
          } finally {
            client.disconnect();
          }
        });
        return { killed, promoted: promoted as RedisNode, killedAt: at, failoverMs: Date.now() - at };
      },
      async stop() {
        await Promise.all(started.map((n) => n.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((n) => n.stop()));
    throw err;
  }
}
