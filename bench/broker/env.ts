import { z } from 'zod';

const count = (def: number, min: number) => z.coerce.number().int().min(min).default(def);

/** Sizes of the broker benchmark; defaults keep the whole run under ~8 minutes on 2 cores. */
const BenchEnv = z.object({
  /** Jobs per throughput case (each system, each concurrency, each mode). */
  BENCH_JOBS: count(10_000, 100),
  /** Rounds of every throughput case, alternating which system goes first; the median is reported. */
  BENCH_ROUNDS: count(3, 1),
  /** Jobs run through both systems before anything is timed, to warm the JIT and Redis. */
  BENCH_WARMUP_JOBS: count(3_000, 0),
  /** Timed claims at each queue depth. */
  BENCH_CLAIM_SAMPLES: count(2_000, 100),
  /** The deep queue of the claim-latency case. */
  BENCH_DEEP_QUEUE: count(100_000, 1_000),
  /** Single submits to an idle worker, each after BENCH_IDLE_SPACING_MS. */
  BENCH_IDLE_SAMPLES: count(300, 20),
  /** Gap before each idle submit; long enough for the worker to park again. */
  BENCH_IDLE_SPACING_MS: count(15, 5),
  /** Worker processes of the multi-process c50 throughput case (50 must split evenly over them). */
  BENCH_PROCESSES: count(5, 2).refine((n) => 50 % n === 0, 'must divide 50 (concurrency 50 split evenly)'),
  /** Distinct pending requirement signatures of the many-signatures claim case (vs 1). */
  BENCH_SIGNATURES: count(10_000, 2),
  /** Pending jobs per signature there; the one-signature case holds as many jobs in total. */
  BENCH_JOBS_PER_SIGNATURE: count(3, 2),
  /** Timed claims in each signature case. */
  BENCH_SIG_CLAIMS: count(2_000, 100),
  /** Busy workers of the submit case: each its own capability class (vs the same number in 4 classes). */
  BENCH_FLEET_WORKERS: count(5_000, 8),
  /** Timed submits in each class case. */
  BENCH_CLASS_SUBMITS: count(2_000, 100),
  /** Tenant A's flood in the fairness case. */
  BENCH_FAIR_FLOOD: count(20_000, 100),
  /** Worker slots (W) in the fairness case: single-slot workers claiming in parallel. */
  BENCH_FAIR_SLOTS: count(4, 1),
  /** Jobs submitted (and, for completed jobs, run) in each memory case. */
  BENCH_MEM_JOBS: count(20_000, 100),
});
export type BenchEnv = z.infer<typeof BenchEnv>;

export function parseBenchEnv(env: NodeJS.ProcessEnv): BenchEnv {
  const result = BenchEnv.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new Error(`invalid benchmark settings (${problems}); unset the variable to use its default`);
}
