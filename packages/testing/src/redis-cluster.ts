import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { infoField, startRedisNode, waitUntil, type RedisNode } from './redis-node.ts';

const run = promisify(execFile);

/** A Redis Cluster of real processes: primaries each with one replica. */
export interface RedisCluster {
  /** The REDIS_URL of the cluster: `redis-cluster://<every node>`. */
  readonly url: string;
  readonly nodes: readonly RedisNode[];
  /** The node serving `key`'s slot as primary now. */
  primaryFor(key: string): Promise<RedisNode>;
  /** SIGKILLs the primary of `key`'s slot; resolves once its replica has taken the slot over. */
  killPrimaryFor(key: string): Promise<{ killed: RedisNode; promoted: RedisNode; killedAt: number; failoverMs: number }>;
  stop(): Promise<void>;
}

async function clusterCall(node: RedisNode, ...args: string[]): Promise<unknown> {
  const client = node.client();
  client.on('error', () => undefined);
  try {
    return await client.call('CLUSTER', ...args);
  } finally {
    client.disconnect();
  }
}

/**
 * Starts `primaries` primaries and as many replicas (AOF on), joined with `redis-cli --cluster
 * create`. A primary is failed after `nodeTimeoutMs` without an answer and its replica promoted.
 */
export async function startRedisCluster(options: { primaries?: number; nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const primaries = options.primaries ?? 3;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const nodes: RedisNode[] = [];
  try {
    for (let i = 0; i < primaries * 2; i++) {
      nodes.push(
        await startRedisNode(
          [
            'cluster-enabled yes',
            'cluster-config-file nodes.conf',
            `cluster-node-timeout ${nodeTimeoutMs}`,
            // A replica may always take over, however long it was cut off: tests kill primaries at will.
            'cluster-replica-validity-factor 0',
            'appendonly yes',
            'repl-diskless-sync-delay 0',
          ].join('\n'),
        ),
      );
    }
    const cli = process.env.REDIS_CLI_BIN ?? 'redis-cli';
    await run(cli, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: 60_000,
    });
    await waitUntil(
      'every node to see the cluster ok and every replica in sync',
      async () => {
        for (const node of nodes) {
          if (!/cluster_state:ok/.test(String(await clusterCall(node, 'INFO')))) return false;
          if ((await infoField(node, 'replication', 'role')) === 'slave' && (await infoField(node, 'replication', 'master_link_status')) !== 'up') {
            return false;
          }
        }
        return true;
      },
      60_000,
    );

    const primaryFor = async (key: string): Promise<RedisNode> => {
      const live = nodes.filter((n) => n.running);
      for (const asked of live) {
        try {
          const slot = Number(await clusterCall(asked, 'KEYSLOT', key));
          const ranges = (await clusterCall(asked, 'SLOTS')) as [number, number, [string, number]][];
          const range = ranges.find(([from, to]) => slot >= from && slot <= to);
          const node = range && nodes.find((n) => n.port === Number(range[2][1]));
          if (node) return node;
        } catch {
          continue;
        }
      }
      throw new Error(`no live node knows the primary of ${key}`);
    };

    return {
      url: `redis-cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
      nodes,
      primaryFor,
      async killPrimaryFor(key) {
        const killed = await primaryFor(key);
        await killed.kill('SIGKILL');
        const at = Date.now();
        let promoted: RedisNode | undefined;
        await waitUntil(
          `a replica to take over the slot of ${key}`,
          async () => {
            promoted = await primaryFor(key);
            return promoted !== killed && (await infoField(promoted, 'replication', 'role')) === 'master';
          },
          60_000,
        );
        return { killed, promoted: promoted as RedisNode, killedAt: at, failoverMs: Date.now() - at };
      },
      async stop() {
        await Promise.all(nodes.map((n) => n.stop()));
      },
    };
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
}
