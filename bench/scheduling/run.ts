import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Broker } from '@conveyor/core';
import { startRedisServer } from '@conveyor/testing';
import { formatTable, percentile, round } from '../lib/stats.ts';
import { jobStream, type StreamJob } from './stream.ts';

/**
 * Warm-model routing on a simulated GPU fleet: 8 real worker processes (the machine's worker entry
 * point with the simulation connector), each holding at most 2 models warm; a stream of jobs over
 * 20 models with Zipf(1.0) popularity, where a cold run costs a load of 10 times the run time first.
 * The same stream runs with routing off (WARM_WINDOW=0) and on, in one Redis, one after the other.
 * Last line: {"jobs_per_gpu_s_gain", "model_loads_ratio", "p95_wait_ratio", "max_wait_ratio"}
 * (on ÷ off for loads and waits; the median of BENCH_SCHEDULING_ROUNDS rounds).
 */

const env = process.env;
const num = (name: string, fallback: number) => Number(env[name] ?? fallback);
const GPUS = num('BENCH_SCHEDULING_GPUS', 8);
const WARM_MODELS = num('BENCH_SCHEDULING_WARM_MODELS', 2);
const MODELS = num('BENCH_SCHEDULING_MODELS', 20);
const RUN_MS = num('BENCH_SCHEDULING_RUN_MS', 100);
const LOAD_MS = num('BENCH_SCHEDULING_LOAD_MS', 10 * RUN_MS);
const JOBS = num('BENCH_SCHEDULING_JOBS', 800);
const PER_SECOND = num('BENCH_SCHEDULING_RATE', 40);
const WINDOW = num('BENCH_SCHEDULING_WINDOW', 32);
const ROUNDS = num('BENCH_SCHEDULING_ROUNDS', 1);

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const workerMain = fileURLToPath(new URL('../../apps/machine/src/worker/main.ts', import.meta.url));
const progress = (message: string) => process.stderr.write(`[bench:scheduling] ${message}\n`);

interface ModeResult {
  readonly mode: 'off' | 'on';
  readonly jobsPerGpuS: number;
  readonly loads: number;
  readonly p50WaitMs: number;
  readonly p95WaitMs: number;
  readonly maxWaitMs: number;
  readonly spanMs: number;
}

function startWorker(redisUrl: string, namespace: string, gpu: number, window: number): ChildProcess {
  return spawn(process.execPath, [tsxCli, workerMain], {
    env: {
      PATH: env.PATH ?? '',
      HOME: env.HOME ?? '/tmp',
      REDIS_URL: redisUrl,
      CONVEYOR_NAMESPACE: namespace,
      MACHINE_ID: `sim-${gpu}`,
      WORKER_ID: `sim-gpu${gpu}`,
      WORKER_SERVICES: 'simulation',
      GPU_INDEX: String(gpu),
      GPU_MEMORY_MB: '24576',
      SIMULATION_WARM_MODELS: String(WARM_MODELS),
      WARM_WINDOW: String(window),
      PRELOAD_IDLE_MS: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stopWorkers(workers: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.exitCode !== null) return;
      const exited = new Promise((resolve) => w.once('exit', resolve));
      w.kill('SIGTERM');
      await exited;
    }),
  );
}

async function runMode(redisUrl: string, mode: 'off' | 'on', round: number, stream: readonly StreamJob[]): Promise<ModeResult> {
  const namespace = `sched${round}${mode}`;
  const broker = await Broker.connect({ redis: redisUrl, namespace });
  const workers = Array.from({ length: GPUS }, (_, gpu) => startWorker(redisUrl, namespace, gpu, mode === 'on' ? WINDOW : 0));
  try {
    for (;;) {
      const idle = (await broker.fleet.workers()).filter((w) => w.status === 'idle').length;
      if (idle >= GPUS) break;
      await sleep(200);
    }
    progress(`round ${round} routing ${mode}: ${GPUS} workers ready; submitting ${stream.length} jobs`);
    const started = Date.now();
    const ids: Promise<string>[] = [];
    for (const job of stream) {
      const due = started + job.atMs - Date.now();
      if (due > 0) await sleep(due);
      ids.push(
        broker
          .submit({
            service: 'simulation',
            payload: { durationMs: RUN_MS, steps: 1, model: job.model, loadMs: LOAD_MS },
            prefer: { models: [job.model] },
          })
          .then((r) => r.id),
      );
    }
    const jobIds = await Promise.all(ids);
    let lastReport = Date.now();
    for (;;) {
      const done = await broker.redis.zcard(broker.keys.status('completed'));
      if (done >= jobIds.length) break;
      if (Date.now() - lastReport > 5000) {
        progress(`round ${round} routing ${mode}: ${done}/${jobIds.length} done after ${Math.round((Date.now() - started) / 1000)} s`);
        lastReport = Date.now();
      }
      await sleep(200);
    }
    const jobs = await Promise.all(jobIds.map(async (id) => (await broker.get(id))?.job));
    const waits: number[] = [];
    let loads = 0;
    let first = Infinity;
    let last = 0;
    for (const job of jobs) {
      if (!job || job.status !== 'completed' || job.startedAt === undefined || job.finishedAt === undefined) throw new Error(`job not completed: ${JSON.stringify(job)}`);
      waits.push(job.startedAt - job.createdAt);
      if ((job.result as { cold?: boolean }).cold) loads++;
      first = Math.min(first, job.createdAt);
      last = Math.max(last, job.finishedAt);
    }
    waits.sort((a, b) => a - b);
    const spanMs = last - first;
    return {
      mode,
      jobsPerGpuS: jobs.length / (GPUS * (spanMs / 1000)),
      loads,
      p50WaitMs: percentile(waits, 50),
      p95WaitMs: percentile(waits, 95),
      maxWaitMs: waits[waits.length - 1] ?? 0,
      spanMs,
    };
  } finally {
    await stopWorkers(workers);
    await broker.close();
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const rounds: { off: ModeResult; on: ModeResult }[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const stream = jobStream({ jobs: JOBS, perSecond: PER_SECOND, models: MODELS, s: 1, seed: 1000 + round });
      const off = await runMode(redis.url, 'off', round, stream);
      const on = await runMode(redis.url, 'on', round, stream);
      rounds.push({ off, on });
    }
  } finally {
    await redis.stop();
  }
  const rows = rounds.flatMap(({ off, on }, i) =>
    [off, on].map((r) => [
      `round ${i + 1} routing ${r.mode}`,
      round(r.jobsPerGpuS, 3).toString(),
      r.loads.toString(),
      `${round((1 - r.loads / JOBS) * 100, 1)}%`,
      round(r.p50WaitMs / 1000, 1).toString(),
      round(r.p95WaitMs / 1000, 1).toString(),
      round(r.maxWaitMs / 1000, 1).toString(),
      round(r.spanMs / 1000, 1).toString(),
    ]),
  );
  const title =
    `Warm-model routing: ${GPUS} GPUs, ${WARM_MODELS} warm models each, ${MODELS} models Zipf(1.0), ${JOBS} jobs at ${PER_SECOND}/s, ` +
    `run ${RUN_MS} ms, load ${LOAD_MS} ms, window ${WINDOW} jobs`;
  process.stdout.write(`${formatTable(title, ['', 'jobs/GPU/s', 'loads', 'warm hits', 'p50 wait s', 'p95 wait s', 'max wait s', 'span s'], rows)}\n`);
  const ratio = (f: (r: { off: ModeResult; on: ModeResult }) => number) => round(median(rounds.map(f)), 3);
  const summary = {
    jobs_per_gpu_s_gain: ratio((r) => r.on.jobsPerGpuS / r.off.jobsPerGpuS),
    model_loads_ratio: ratio((r) => r.on.loads / r.off.loads),
    p95_wait_ratio: ratio((r) => r.on.p95WaitMs / r.off.p95WaitMs),
    max_wait_ratio: ratio((r) => r.on.maxWaitMs / r.off.maxWaitMs),
  };
  process.stdout.write(`targets: gain >= 1.3, loads <= 0.5, p95 wait <= 1.0, max wait <= 1.5 (on ÷ off${ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : ''})\n`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

await main();
