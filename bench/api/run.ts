import { cpus } from 'node:os';
import { Broker } from '@conveyor/core';
import { startRedisServer } from '@conveyor/testing';
import { formatTable, round } from '../lib/stats.ts';
import { parseApiBenchEnv } from './env.ts';
import { directLoad, httpLoad, type LoadResult } from './load.ts';
import { startCluster, startSingle, type RunningApi } from './servers.ts';

function progress(message: string): void {
  process.stderr.write(`[bench:api] ${message}\n`);
}

/**
 * HTTP submit throughput and latency: autocannon against one API instance and against the PM2
 * cluster, beside the same closed loop straight into the broker, all against one redis-server in
 * one run. Each phase has its own namespace so no phase pays for another's queue.
 */
async function main(): Promise<void> {
  const env = parseApiBenchEnv(process.env);
  const redis = await startRedisServer();
  const results: Record<'direct' | 'single' | 'cluster', LoadResult | undefined> = { direct: undefined, single: undefined, cluster: undefined };
  let clusterSize = 0;
  try {
    const measureHttp = async (api: RunningApi, name: string): Promise<LoadResult> => {
      if (env.BENCH_API_WARMUP_SECONDS > 0) {
        progress(`${name}: warm-up ${env.BENCH_API_WARMUP_SECONDS} s`);
        await httpLoad(api.url, env.BENCH_API_WARMUP_SECONDS, env.BENCH_API_CONNECTIONS);
      }
      progress(`${name}: ${env.BENCH_API_SECONDS} s with ${env.BENCH_API_CONNECTIONS} connections`);
      const result = await httpLoad(api.url, env.BENCH_API_SECONDS, env.BENCH_API_CONNECTIONS);
      progress(`${name}: ${Math.round(result.perSec)} submits/s, p99 ${result.p99Ms} ms`);
      return result;
    };

    const broker = await Broker.connect({ redis: redis.url, namespace: 'bench-direct' });
    try {
      if (env.BENCH_API_WARMUP_SECONDS > 0) {
        progress(`direct broker: warm-up ${env.BENCH_API_WARMUP_SECONDS} s`);
        await directLoad(broker, env.BENCH_API_WARMUP_SECONDS, env.BENCH_API_CONNECTIONS);
      }
      progress(`direct broker: ${env.BENCH_API_SECONDS} s with ${env.BENCH_API_CONNECTIONS} concurrent submits`);
      results.direct = await directLoad(broker, env.BENCH_API_SECONDS, env.BENCH_API_CONNECTIONS);
      progress(`direct broker: ${Math.round(results.direct.perSec)} submits/s, p99 ${round(results.direct.p99Ms)} ms`);
    } finally {
      await broker.close();
    }

    progress('starting one API instance');
    const single = await startSingle(redis.url, 'bench-single', env.BENCH_API_LOG_LEVEL);
    try {
      results.single = await measureHttp(single, 'one instance');
    } finally {
      await single.stop();
    }

    progress(`starting the PM2 cluster (instances: ${env.BENCH_API_INSTANCES})`);
    const cluster = await startCluster(redis.url, 'bench-cluster', env.BENCH_API_LOG_LEVEL, env.BENCH_API_INSTANCES);
    clusterSize = cluster.instances;
    try {
      results.cluster = await measureHttp(cluster, `PM2 cluster of ${clusterSize}`);
    } finally {
      await cluster.stop();
    }
  } finally {
    await redis.stop();
  }

  const { direct, single, cluster } = results as Record<keyof typeof results, LoadResult>;
  const row = (name: string, r: LoadResult) => [name, String(Math.round(r.perSec)), String(r.requests), String(round(r.p50Ms)), String(round(r.p99Ms))];
  process.stdout.write(
    `${formatTable(
      `API submit benchmark — ${cpus().length} cores, ${env.BENCH_API_SECONDS} s per phase, ${env.BENCH_API_CONNECTIONS} concurrent clients, API log level ${env.BENCH_API_LOG_LEVEL}`,
      ['path', 'submits/s', 'submits', 'p50 ms', 'p99 ms'],
      [row('direct broker.submit (no HTTP)', direct), row('HTTP, one instance', single), row(`HTTP, PM2 cluster of ${clusterSize}`, cluster)],
    )}\n` +
      'The load generator, the API instances and Redis share the same cores, so the cluster is measured against the same budget as one instance.\n',
  );
  const summary = {
    http_submit_per_s: Math.round(single.perSec),
    http_vs_direct: round(single.perSec / direct.perSec),
    cluster_vs_single: round(cluster.perSec / single.perSec),
    submit_p99_ms: round(single.p99Ms),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

// Exits explicitly: after its daemon is killed, PM2's client library keeps a reconnect timer alive.
main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[bench:api] failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
