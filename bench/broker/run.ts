import { constants, cpus, loadavg } from 'node:os';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import { Redis } from 'ioredis';
import { attempt, type Outcome } from '../lib/outcome.ts';
import { summarize } from '../lib/stats.ts';
import { bullmqIdlePickup, bullmqMultiProcess, bullmqThroughput } from './bullmq.ts';
import { claimLatency, conveyorMultiProcess, conveyorThroughput, idlePickup } from './conveyor.ts';
import { parseBenchEnv, type BenchEnv } from './env.ts';
import { fairWait } from './fairness.ts';
import { bullmqPendingMemory, conveyorCompletedMemory, conveyorPendingMemory } from './memory.ts';
import { assertSignatureMix, SIGNATURES } from './mix.ts';
import type { ClaimScaleResults, FairnessResults, MemoryResults, SubmitScaleResults } from './report-fleet.ts';
import { renderReport, summaryOf, type BrokerBenchResults, type SystemsThroughput } from './report.ts';
import { claimScale, submitScale } from './scale.ts';
import { medianRound, type Throughput, type ThroughputCase } from './throughput.ts';

const SHALLOW_DEPTH = 100;
/** The few-class side of the submit case. */
const FEW_CLASSES = 4;
/** Tenant B's jobs in the fairness case. */
const LATE_JOBS = 10;

type Runner = (url: string, admin: Redis, c: ThroughputCase) => Promise<Throughput>;

function progress(message: string): void {
  process.stderr.write(`[bench:broker] ${message}\n`);
}

/** `BENCH_ROUNDS` rounds of one case on both systems, alternating which goes first; the median round of each. */
async function rounds(
  server: RedisServer,
  admin: Redis,
  env: BenchEnv,
  c: ThroughputCase,
  label: string,
  run: { readonly conveyor: Runner; readonly bullmq: Runner },
  flush: () => Promise<void>,
): Promise<SystemsThroughput> {
  const results = { conveyor: [] as Throughput[], bullmq: [] as Throughput[] };
  for (let round = 0; round < env.BENCH_ROUNDS; round++) {
    const order = round % 2 === 0 ? (['conveyor', 'bullmq'] as const) : (['bullmq', 'conveyor'] as const);
    for (const system of order) {
      try {
        results[system].push(await run[system](server.url, admin, c));
      } finally {
        await flush();
      }
    }
    progress(
      `throughput ${label} round ${round + 1}/${env.BENCH_ROUNDS}: ` +
        `conveyor ${Math.round(results.conveyor.at(-1)?.jobsPerSec ?? 0)}/s, bullmq ${Math.round(results.bullmq.at(-1)?.jobsPerSec ?? 0)}/s`,
    );
  }
  return { conveyor: medianRound(results.conveyor), bullmq: medianRound(results.bullmq) };
}

/** Runs a case that may fail on the broker under test: the error is recorded and the run goes on. */
async function measured<T>(label: string, work: () => Promise<T>, flush: () => Promise<void>): Promise<Outcome<T>> {
  progress(label);
  const outcome = await attempt(work);
  await flush();
  if (!outcome.ok) progress(`${label}: ERROR ${outcome.error}`);
  return outcome;
}

/** Logs a side of a paired case that failed while the other went on. */
function reportSides(label: string, sides: Record<string, Outcome<unknown>>): void {
  for (const [name, outcome] of Object.entries(sides)) if (!outcome.ok) progress(`${label}: ${name}: ERROR ${outcome.error}`);
}

async function claimScaleCase(url: string, admin: Redis, env: BenchEnv, flush: () => Promise<void>): Promise<ClaimScaleResults> {
  const pending = env.BENCH_SIGNATURES * env.BENCH_JOBS_PER_SIGNATURE;
  const signatures = { few: 1, many: env.BENCH_SIGNATURES };
  const claims = env.BENCH_SIG_CLAIMS;
  const label = `claim cost: ${pending} pending jobs over ${signatures.few} vs ${signatures.many} signatures, ${claims} timed claims each`;
  const both = await measured(label, () => claimScale(url, admin, signatures, pending, claims), flush);
  const sides = both.ok ? both.value : { few: both, many: both };
  if (both.ok) reportSides(label, { [`${signatures.few} signature(s)`]: sides.few, [`${signatures.many} signatures`]: sides.many });
  return { signatures, pending, claims, ...sides };
}

async function submitScaleCase(url: string, admin: Redis, env: BenchEnv, flush: () => Promise<void>): Promise<SubmitScaleResults> {
  const workers = env.BENCH_FLEET_WORKERS;
  const classes = { few: FEW_CLASSES, many: workers };
  const submits = env.BENCH_CLASS_SUBMITS;
  const label = `submit cost: ${workers} busy workers in ${classes.few} vs ${classes.many} capability classes, ${submits} timed submits each`;
  const both = await measured(label, () => submitScale(url, admin, workers, classes, submits), flush);
  const sides = both.ok ? both.value : { few: both, many: both };
  if (both.ok) reportSides(label, { [`${classes.few} classes`]: sides.few, [`${classes.many} classes`]: sides.many });
  return { workers, classes, submits, ...sides };
}

async function memoryCase(url: string, admin: Redis, env: BenchEnv, flush: () => Promise<void>): Promise<MemoryResults> {
  const jobs = env.BENCH_MEM_JOBS;
  const conveyorPending = await measured(`memory: ${jobs} pending conveyor jobs`, () => conveyorPendingMemory(url, admin, jobs), flush);
  const bullmqPending = await measured(`memory: ${jobs} pending bullmq jobs`, () => bullmqPendingMemory(url, admin, jobs), flush);
  const conveyorCompleted = await measured(`memory: ${jobs} completed conveyor jobs`, () => conveyorCompletedMemory(url, admin, jobs), flush);
  // The no-op handler's result as the broker stores it: JSON `null`.
  const resultBytes = Buffer.byteLength(JSON.stringify(null));
  return { jobs, conveyorPending, bullmqPending, conveyorCompleted, resultBytes };
}

async function run(server: RedisServer, env: BenchEnv): Promise<BrokerBenchResults> {
  const admin = new Redis(server.url);
  // Every case starts from an empty Redis so no case pays for another's leftovers.
  const flush = async () => void (await admin.flushall());
  try {
    await flush();
    const redisVersion = /^redis_version:(\S+)/m.exec(await admin.info('server'))?.[1] ?? 'unknown';
    const loadBefore = loadavg()[0] ?? 0;
    if (env.BENCH_WARMUP_JOBS > 0) {
      progress(`warm-up: ${env.BENCH_WARMUP_JOBS} jobs through each system`);
      for (const concurrency of [1, 50]) {
        const warm: ThroughputCase = { concurrency, jobs: env.BENCH_WARMUP_JOBS, mode: 'prefilled', processes: 1 };
        await conveyorThroughput(server.url, admin, warm);
        await flush();
        await bullmqThroughput(server.url, admin, warm);
        await flush();
      }
    }

    const throughput: BrokerBenchResults['throughput'][number][] = [];
    for (const mode of ['prefilled', 'live'] as const) {
      for (const concurrency of [1, 50]) {
        const c: ThroughputCase = { concurrency, jobs: env.BENCH_JOBS, mode, processes: 1 };
        const single = { conveyor: conveyorThroughput, bullmq: bullmqThroughput };
        throughput.push({ case: c, ...(await rounds(server, admin, env, c, `${mode} c${concurrency}`, single, flush)) });
      }
    }
    const multiCase: ThroughputCase = { concurrency: 50, jobs: env.BENCH_JOBS, mode: 'prefilled', processes: env.BENCH_PROCESSES };
    // The worker processes warm up on their own (their JIT is cold), as the bench process did above.
    const warmJobs = Math.min(env.BENCH_WARMUP_JOBS, env.BENCH_JOBS);
    const multi: { conveyor: Runner; bullmq: Runner } = {
      conveyor: (url, admin, c) => conveyorMultiProcess(url, admin, c, warmJobs),
      bullmq: (url, admin, c) => bullmqMultiProcess(url, admin, c, warmJobs),
    };
    const multiLabel = `prefilled c50 over ${env.BENCH_PROCESSES} worker processes`;
    const multiProcess = { case: multiCase, outcome: await attempt(() => rounds(server, admin, env, multiCase, multiLabel, multi, flush)) };
    if (!multiProcess.outcome.ok) progress(`throughput ${multiLabel}: ERROR ${multiProcess.outcome.error}`);

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

    const claimScaleResults = await claimScaleCase(server.url, admin, env, flush);
    const submitScaleResults = await submitScaleCase(server.url, admin, env, flush);
    const fairness: FairnessResults = {
      slots: env.BENCH_FAIR_SLOTS,
      flood: env.BENCH_FAIR_FLOOD,
      late: LATE_JOBS,
      outcome: await measured(
        `fairness: tenant A floods ${env.BENCH_FAIR_FLOOD}, tenant B submits ${LATE_JOBS}, W=${env.BENCH_FAIR_SLOTS} slots`,
        () => fairWait(server.url, env.BENCH_FAIR_SLOTS, env.BENCH_FAIR_FLOOD, LATE_JOBS),
        flush,
      ),
    };
    const memory = await memoryCase(server.url, admin, env, flush);

    return {
      setting: { redisVersion, cpus: cpus().length, signatures: SIGNATURES, loadBefore, loadAfter: loadavg()[0] ?? 0 },
      rounds: env.BENCH_ROUNDS,
      throughput,
      claim: { shallowDepth: SHALLOW_DEPTH, deepDepth: env.BENCH_DEEP_QUEUE, shallow, deep },
      idle: { conveyor: idleConveyor, bullmq: idleBullmq },
      multiProcess,
      claimScale: claimScaleResults,
      submitScale: submitScaleResults,
      fairness,
      memory,
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
