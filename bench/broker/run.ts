import { constants, cpus, loadavg } from 'node:os';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import { Redis } from 'ioredis';
import { summarize } from '../lib/stats.ts';
import { bullmqIdlePickup, bullmqThroughput } from './bullmq.ts';
import { claimLatency, conveyorThroughput, idlePickup } from './conveyor.ts';
import { parseBenchEnv, type BenchEnv } from './env.ts';
import { assertSignatureMix, SIGNATURES } from './mix.ts';
import { renderReport, summaryOf, type BrokerBenchResults } from './report.ts';
import { medianRound, type Throughput, type ThroughputCase } from './throughput.ts';

const SHALLOW_DEPTH = 100;

function progress(message: string): void {
  process.stderr.write(`[bench:broker] ${message}\n`);
}

async function run(server: RedisServer, env: BenchEnv): Promise<BrokerBenchResults> {
  const admin = new Redis(server.url);
  // Every case starts from an empty Redis so no case pays for another's leftovers.
  const flush = async () => void (await admin.flushall());
  try {
    const redisVersion = /^redis_version:(\S+)/m.exec(await admin.info('server'))?.[1] ?? 'unknown';
    const loadBefore = loadavg()[0] ?? 0;
    if (env.BENCH_WARMUP_JOBS > 0) {
      progress(`warm-up: ${env.BENCH_WARMUP_JOBS} jobs through each system`);
      for (const concurrency of [1, 50]) {
        const warm: ThroughputCase = { concurrency, jobs: env.BENCH_WARMUP_JOBS, mode: 'prefilled' };
        await conveyorThroughput(server.url, admin, warm);
        await flush();
        await bullmqThroughput(server.url, admin, warm);
        await flush();
      }
    }

    const throughput: BrokerBenchResults['throughput'][number][] = [];
    for (const mode of ['prefilled', 'live'] as const) {
      for (const concurrency of [1, 50]) {
        const c: ThroughputCase = { concurrency, jobs: env.BENCH_JOBS, mode };
        const rounds = { conveyor: [] as Throughput[], bullmq: [] as Throughput[] };
        for (let round = 0; round < env.BENCH_ROUNDS; round++) {
          const order = round % 2 === 0 ? (['conveyor', 'bullmq'] as const) : (['bullmq', 'conveyor'] as const);
          for (const system of order) {
            const result = await (system === 'conveyor' ? conveyorThroughput : bullmqThroughput)(server.url, admin, c);
            await flush();
            rounds[system].push(result);
          }
          progress(
            `throughput ${mode} c${concurrency} round ${round + 1}/${env.BENCH_ROUNDS}: ` +
              `conveyor ${Math.round(rounds.conveyor.at(-1)?.jobsPerSec ?? 0)}/s, bullmq ${Math.round(rounds.bullmq.at(-1)?.jobsPerSec ?? 0)}/s`,
          );
        }
        throughput.push({ case: c, conveyor: medianRound(rounds.conveyor), bullmq: medianRound(rounds.bullmq) });
      }
    }

    progress(`claim latency at ${SHALLOW_DEPTH} pending`);
    const shallow = summarize(await claimLatency(server.url, SHALLOW_DEPTH, env.BENCH_CLAIM_SAMPLES));
    await flush();
    progress(`claim latency at ${env.BENCH_DEEP_QUEUE} pending (filling)`);
    const deep = summarize(await claimLatency(server.url, env.BENCH_DEEP_QUEUE, env.BENCH_CLAIM_SAMPLES));
    await flush();

    progress(`idle pickup: ${env.BENCH_IDLE_SAMPLES} spaced submits to each system`);
    const idleConveyor = summarize(await idlePickup(server.url, env.BENCH_IDLE_SAMPLES, env.BENCH_IDLE_SPACING_MS));
    await flush();
    const idleBullmq = summarize(await bullmqIdlePickup(server.url, env.BENCH_IDLE_SAMPLES, env.BENCH_IDLE_SPACING_MS));
    await flush();

    return {
      setting: { redisVersion, cpus: cpus().length, signatures: SIGNATURES, loadBefore, loadAfter: loadavg()[0] ?? 0 },
      rounds: env.BENCH_ROUNDS,
      throughput,
      claim: { shallowDepth: SHALLOW_DEPTH, deepDepth: env.BENCH_DEEP_QUEUE, shallow, deep },
      idle: { conveyor: idleConveyor, bullmq: idleBullmq },
    };
  } finally {
    admin.disconnect();
  }
}

async function main(): Promise<void> {
  const env = parseBenchEnv(process.env);
  assertSignatureMix();
  const server = await startRedisServer();
  const stopOnSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping redis-server`);
    void server.stop().finally(() => process.exit(128 + constants.signals[signal]));
  };
  process.once('SIGTERM', stopOnSignal);
  process.once('SIGINT', stopOnSignal);
  const started = performance.now();
  try {
    progress(`private redis-server at ${server.url}; ${cpus().length} CPUs; ${SIGNATURES} requirement signatures`);
    const results = await run(server, env);
    const summary = summaryOf(results);
    progress(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    process.stdout.write(`${renderReport(results, summary)}\n${JSON.stringify(summary)}\n`);
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
