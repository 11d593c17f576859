import { z } from 'zod';

const count = (def: number, min: number) => z.coerce.number().int().min(min).default(def);

/** Sizes of the broker benchmark; defaults keep the whole run under ~3 minutes on 2 cores. */
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
});
export type BenchEnv = z.infer<typeof BenchEnv>;

export function parseBenchEnv(env: NodeJS.ProcessEnv): BenchEnv {
  const result = BenchEnv.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new Error(`invalid benchmark settings (${problems}); unset the variable to use its default`);
}
